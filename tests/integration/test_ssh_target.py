"""A plain Debian 12 Docker host reached over SSH with its own /usr/bin/python3, nothing installed for
Python: the deploy installs what the modules import, or stops before anything changes and names
what is missing, on which host and Python, and how to install it."""

from __future__ import annotations

import subprocess
from pathlib import Path

import docker
import pytest
import yaml
from playbook import ROOT, VALKEY_IMAGE, run_playbook, stack_vars, unique_prefix

pytestmark = pytest.mark.integration

TESTHOST = ROOT / "hack" / "testhost.sh"
STATE = Path("/var/lib/owui-realtime/testhosts")
HOST = "it-ssh"
INDEX = 5          # address 10.231.0.15; molecule default uses 1
LIBRARIES = {"requests": "python3-requests", "python-socketio": "python3-socketio",
             "websocket-client": "python3-websocket"}


def on_testhosts(*args: str) -> str:
    proc = subprocess.run([str(TESTHOST), *args], capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode == 0, f"hack/testhost.sh {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


@pytest.fixture
def target(tmp_path):
    """A fresh test host for one test: its root file system is a new copy of the recipe's."""
    on_testhosts("up", HOST, str(INDEX))
    inventory = tmp_path / "inventory.yml"
    inventory.write_text(on_testhosts("inventory", HOST))
    address = (STATE / HOST / "address").read_text().strip()
    engine = docker.DockerClient(base_url=f"tcp://{address}:2375")
    try:
        yield inventory, engine
    finally:
        engine.close()
        on_testhosts("down", HOST)


def _created(engine: docker.DockerClient, prefix: str) -> list[str]:
    return ([c.name for c in engine.containers.list(all=True) if c.name.startswith(prefix)]
            + [n.name for n in engine.networks.list() if n.name.startswith(prefix)]
            + [v.name for v in engine.volumes.list() if v.name.startswith(prefix)])


def test_a_host_without_the_libraries_is_stopped_before_anything_changes(target, tmp_path):
    inventory, engine = target
    prefix = unique_prefix("ssh")
    run = run_playbook("deploy", {**stack_vars(prefix, tmp_path, 3000), "docker_engine_python_install": False},
                       inventory=inventory)
    assert run.returncode != 0, run.output[-3000:]
    message = " ".join(run.output.split())
    assert f"{HOST}: The Python that Ansible uses here (/usr/bin/python3) lacks" in message, run.output[-3000:]
    for name, package in LIBRARIES.items():
        assert f"{name} >= " in message
        assert package in message
    assert "apt-get install python3-requests python3-socketio python3-websocket" in message
    assert "docker_engine_python_install is off" in message
    assert "No Docker engine answers" not in message
    assert _created(engine, prefix) == []


def test_the_deploy_installs_them_and_a_removed_one_is_named(target, tmp_path):
    inventory, _engine = target
    playbook = ROOT / "tests" / "integration" / "playbooks" / "target_ready.yml"
    prepared = run_playbook(playbook, {}, inventory=inventory)
    assert prepared.returncode == 0, prepared.output[-3000:]
    assert prepared.changed >= 1, "the libraries were missing, so installing them is a change"
    again = run_playbook(playbook, {}, inventory=inventory)
    assert again.returncode == 0 and again.changed == 0, again.output[-3000:]

    on_testhosts("run", HOST, "apt-get", "remove", "-y", "-qq", "python3-websocket")
    refused = run_playbook(playbook, {"docker_engine_python_install": False}, inventory=inventory)
    message = " ".join(refused.output.split())
    assert refused.returncode != 0, refused.output[-3000:]
    assert "lacks websocket-client >= 1.2 (not installed" in message, refused.output[-3000:]
    assert "python3-websocket" in message
    assert "requests >= " not in message and "python-socketio >= " not in message


def test_a_replica_that_cannot_reach_valkey_is_stopped_before_its_container_starts(tmp_path):
    """Two test hosts: Valkey on one, published on its address; the other, a replica, has that port
    blocked by its own firewall. The deploy runs Valkey, then stops on the replica naming both hosts.
    The positive control is molecule's multi_host scenario, whose replicas pass the same check."""
    valkey_host, replica = "it-valkey", "it-replica"
    started_registry = "(storage" in on_testhosts("registry")
    image = on_testhosts("publish", VALKEY_IMAGE).split()[-1]
    on_testhosts("up", valkey_host, "6")
    on_testhosts("up", replica, "7")
    try:
        address = (STATE / valkey_host / "address").read_text().strip()
        on_testhosts("run", replica, "iptables", "-A", "OUTPUT", "-p", "tcp", "-d", address, "--dport", "6379",
                     "-j", "REJECT", "--reject-with", "tcp-reset")
        hosts = yaml.safe_load(on_testhosts("inventory", valkey_host, replica))["all"]
        hosts["hosts"][valkey_host].update(valkey_published_address=address, valkey_image=image)
        hosts["children"] = {"valkey": {"hosts": {valkey_host: None}}, "open_webui": {"hosts": {replica: None}}}
        inventory = tmp_path / "inventory.yml"
        inventory.write_text(yaml.safe_dump({"all": hosts}))
        prefix = unique_prefix("reach")
        common = {k: v for k, v in stack_vars(prefix, tmp_path, 3000).items()
                  if not k.startswith("valkey_image") and k not in ("valkey_pull", "open_webui_pull")}
        run = run_playbook("deploy", {**common, "open_webui_reach_timeout": 3}, inventory=inventory)
        message = " ".join(run.output.split())
        assert run.returncode != 0, run.output[-3000:]
        assert f"{replica} cannot reach Valkey at {address}:6379, where {valkey_host} publishes it" in message, \
            run.output[-3000:]
        engine = docker.DockerClient(base_url=f"tcp://{(STATE / replica / 'address').read_text().strip()}:2375")
        try:
            assert [c.name for c in engine.containers.list(all=True)] == []
        finally:
            engine.close()
    finally:
        on_testhosts("down", replica)
        on_testhosts("down", valkey_host)
        if started_registry:
            on_testhosts("registry-stop")
