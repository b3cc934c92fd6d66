"""A topology from the inventory's groups (valkey, postgres, open_webui, loadbalancer) that cannot work
is refused before anything changes, with a message that names what to fix."""

from __future__ import annotations

import json

import pytest
from playbook import leftovers, run_playbook

# The engine and stack fixtures come from conftest.py.

pytestmark = pytest.mark.integration

# No traffic goes to these: every case stops in the deploy's first play (TEST-NET-1, RFC 5737).
ELSEWHERE = "192.0.2.10"
SHARED_DB = f"postgresql://openwebui:secret@{ELSEWHERE}:5432/openwebui"


def _inventory(tmp_path, groups: dict[str, dict[str, dict]], common: dict) -> object:
    """Hosts on this machine's engine (local connection), placed in the given groups with their vars,
    the test's names for everyone (as group vars, so that a host's own vars win over them)."""
    local = {"ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}"}
    inventory = {"all": {"vars": common, "children": {
        group: {"hosts": {host: {**local, **hostvars} for host, hostvars in hosts.items()}}
        for group, hosts in groups.items()}}}
    path = tmp_path / "topology.yml"
    path.write_text(json.dumps(inventory))
    return path


PUBLISHED = {"valkey_published_address": ELSEWHERE}

CASES = [
    pytest.param({"valkey": {}, "open_webui": {"r1": {}}},
                 "0 hosts in the group valkey", id="no-valkey-host"),
    pytest.param({"valkey": {"v1": PUBLISHED, "v2": PUBLISHED}, "open_webui": {"r1": {}}},
                 "2 hosts in the group valkey (v1, v2)", id="two-valkey-hosts"),
    pytest.param({"valkey": {"v1": {}}, "open_webui": {"r1": {}}},
                 "set valkey_published_address for v1", id="valkey-not-published-for-other-hosts"),
    pytest.param({"valkey": {"v1": PUBLISHED}, "open_webui": {"r1": {}, "r2": {}}},
                 "Open WebUI does not support SQLite with more than one replica", id="replicas-on-sqlite"),
    pytest.param({"valkey": {"v1": PUBLISHED},
                  "open_webui": {"r1": {"open_webui_database_url": SHARED_DB},
                                 "r2": {"open_webui_database_url": SHARED_DB,
                                        "open_webui_image": "localhost/owui-test/open-webui:0.12.3"}}},
                 "run different images", id="replicas-with-different-images"),
    pytest.param({"valkey": {"v1": PUBLISHED},
                  "open_webui": {"r1": {"open_webui_database_url": SHARED_DB},
                                 "r2": {"open_webui_database_url": SHARED_DB, "open_webui_db_migrations": True}}},
                 "r1, r2 would run its migrations at start", id="migrations-on-two-replicas"),
    pytest.param({"valkey": {"v1": PUBLISHED}, "postgres": {"v1": {}}, "open_webui": {"r1": {}}},
                 "Set postgres_publish_address for v1", id="postgres-not-published-for-other-hosts"),
    pytest.param({"valkey": {"v1": PUBLISHED}, "loadbalancer": {"v1": {}}, "open_webui": {}},
                 "loadbalancer_upstreams is empty", id="load-balancer-without-replicas"),
]


@pytest.mark.parametrize(("groups", "message"), CASES)
def test_a_topology_that_cannot_work_is_refused_before_anything_changes(engine, stack, tmp_path, groups, message):
    prefix, extra = stack
    run = run_playbook("deploy", {}, inventory=_inventory(tmp_path, groups, extra))
    assert run.returncode != 0, run.output[-3000:]
    assert message in " ".join(run.output.split()), run.output[-3000:]
    assert run.changed == 0
    assert leftovers(engine, prefix) == []


def test_the_same_topology_with_its_fixes_passes_the_checks(engine, stack, tmp_path):
    """The positive control: the cases above, mended, pass the first play (in check mode, so nothing
    is created and no traffic goes to the documentation address)."""
    prefix, extra = stack
    groups = {"valkey": {"v1": {**PUBLISHED, "postgres_publish_address": ELSEWHERE}},
              "postgres": {"v1": {}},
              "open_webui": {"r1": {}, "r2": {}},
              "loadbalancer": {"v1": {}}}
    run = run_playbook("deploy", {}, inventory=_inventory(tmp_path, groups, extra), check=True)
    assert run.returncode == 0, run.output[-4000:]
    assert leftovers(engine, prefix) == []
