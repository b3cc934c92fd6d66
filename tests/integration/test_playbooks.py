"""The playbooks against the real engine: bad input, check mode, re-deploys that keep data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests
from playbook import leftovers, run_playbook

pytestmark = pytest.mark.integration


BAD_INPUT = [
    pytest.param({"valkey_image": "Valkey/Valkey:8 bad"}, "valkey_image", id="invalid-image-reference"),
    pytest.param({"open_webui_image": "ghcr.io/open-webui/open-webui:"}, "open_webui_image", id="empty-image-tag"),
    pytest.param({"open_webui_port": 70000}, "open_webui_port", id="port-out-of-range"),
    pytest.param({"network_name": "open webui net"}, "network_name", id="network-name-with-spaces"),
    pytest.param({"valkey_maxclients": "lots"}, "valkey_maxclients", id="wrong-type"),
    pytest.param({"open_webui_redis_url": "redis://127.0.0.1:6379/1"}, "open_webui_redis_url", id="loopback-url"),
    pytest.param({"open_webui_redis_url": "redis://localhost:6379/1"}, "open_webui_redis_url", id="localhost-url"),
    pytest.param({"open_webui_redis_url": "redis://0.0.0.0:6379/1"}, "open_webui_redis_url", id="unspecified-address-url"),
    pytest.param({"valkey_maxmemory_policy": "allkeys-lru"}, "valkey_maxmemory_policy", id="allkeys-eviction"),
    pytest.param({"valkey_auth_enabled": False, "valkey_published_address": "0.0.0.0"},
                 "valkey_published_address", id="published-without-auth"),
    pytest.param({"valkey_open_webui_password": "short"}, "valkey_open_webui_password", id="short-password"),
    pytest.param({"valkey_tls_enabled": True, "valkey_tls_cert": "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----"},
                 "valkey_tls_key", id="tls-certificate-without-key"),
    pytest.param({"valkey_tls_enabled": True, "valkey_tls_subject_alt_names": ["valkey.example.org"]},
                 "valkey_tls_subject_alt_names", id="tls-name-without-type"),
    pytest.param({"valkey_tls_enabled": True, "valkey_tls_valid_days": 30, "valkey_tls_renew_days": 30},
                 "valkey_tls_renew_days", id="tls-renewal-window-as-long-as-validity"),
]


@pytest.mark.parametrize(("bad", "variable"), BAD_INPUT)
def test_bad_input_stops_before_anything_changes(engine, stack, bad, variable):
    prefix, extra = stack
    run = run_playbook("deploy", {**extra, **bad})
    assert run.returncode != 0, run.output[-3000:]
    assert variable in run.output, f"the error does not name {variable}:\n{run.output[-3000:]}"
    assert run.changed == 0
    assert leftovers(engine, prefix) == []


def _replica_inventory(path: Path, keys: dict[str, str | None]) -> Path:
    """Two inventory hosts on this engine that share replica-a's Valkey, with the given secret keys, and
    otherwise a topology that passes the checks: Valkey published for replica-b, one shared database,
    one replica running the migrations. The address is TEST-NET-1 (RFC 5737): no test sends it traffic."""
    hosts = {}
    for name, key in keys.items():
        hosts[name] = {"ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}",
                       "open_webui_valkey_host": "replica-a",
                       "open_webui_database_url": "postgresql://openwebui:secret@192.0.2.10:5432/openwebui",
                       "open_webui_db_migrations": name == "replica-a"}
        if key is not None:
            hosts[name]["open_webui_secret_key"] = key
    hosts["replica-a"]["valkey_published_address"] = "192.0.2.10"
    inventory = path / "replicas.yml"
    inventory.write_text(json.dumps({"all": {"hosts": hosts}}))
    return inventory


def test_replicas_with_different_secret_keys_are_refused(engine, stack, tmp_path):
    prefix, extra = stack
    inventory = _replica_inventory(tmp_path, {"replica-a": "a" * 40, "replica-b": "b" * 40})
    run = run_playbook("deploy", extra, inventory=inventory)
    assert run.returncode != 0, run.output[-3000:]
    assert "open_webui_secret_key" in run.output and "replica-a, replica-b" in run.output, run.output[-3000:]
    assert run.changed == 0
    assert leftovers(engine, prefix) == []


def test_replicas_share_one_generated_secret_key_by_default(engine, stack, tmp_path):
    # The same two replicas with no key given pass the check: the generated key is one per Valkey host.
    prefix, extra = stack
    defaults = {k: v for k, v in extra.items() if not k.endswith("_credentials_dir")}
    inventory = _replica_inventory(tmp_path, {"replica-a": None, "replica-b": None})
    run = run_playbook("deploy", defaults, inventory=inventory, check=True, env={"HOME": str(tmp_path)})
    assert run.returncode == 0, run.output[-4000:]
    generated = tmp_path / ".config" / "owui-realtime"
    assert (generated / "replica-a" / "webui-secret-key").is_file()
    assert not (generated / "replica-b" / "webui-secret-key").exists()
    assert leftovers(engine, prefix) == []


def test_an_unreachable_engine_is_reported_with_how_to_start_one(stack):
    _prefix, extra = stack
    run = run_playbook("deploy", extra, env={"DOCKER_HOST": "unix:///run/owui-it-no-engine.sock"})
    assert run.returncode != 0
    assert "No Docker engine answers" in run.output
    assert "systemctl start docker" in run.output


@pytest.mark.parametrize("tls", [False, True], ids=["plaintext", "tls"])
def test_check_mode_on_an_empty_host_reports_changes_without_failing(engine, stack, tmp_path, tls):
    prefix, extra = stack
    if tls:
        extra = {**extra, "valkey_tls_enabled": True, "valkey_tls_ca_dir": str(tmp_path / "ca")}
    run = run_playbook("deploy", extra, check=True)
    assert run.returncode == 0, run.output[-4000:]
    assert run.changed > 0
    assert leftovers(engine, prefix) == []
    # Each role's settings are checked once per deploy: in the first play, not again in the roles.
    for first_check in ("Check that the network name is one Docker accepts", "Check the Valkey image reference",
                        "Check the Open WebUI image reference"):
        assert run.output.count(f"{first_check}]") == 1, f"'{first_check}' ran {run.output.count(first_check)} times"


def _valkey_cli(container, admin_password: str, *args: str) -> str:
    _exit_code, out = container.exec_run(["valkey-cli", "--no-auth-warning", *args],
                                         environment={"REDISCLI_AUTH": admin_password})
    return out.decode().strip()


def test_redeploys_recreate_only_what_changed_and_keep_the_data(engine, stack, tmp_path):
    prefix, extra = stack
    first = run_playbook("deploy", extra)
    assert first.returncode == 0, first.output[-5000:]
    assert leftovers(engine, prefix), "the deploy created nothing under the test's prefix"

    # Deployed: a second run (at -vvv) and a check-mode run change nothing, and no secret is printed.
    again = run_playbook("deploy", extra, verbosity=3)
    assert again.returncode == 0 and again.changed == 0, again.output[-5000:]
    credentials = tmp_path / "credentials"
    secrets = {f.name: f.read_text().split()[0] for f in credentials.iterdir()}
    assert set(secrets) == {"valkey-admin.password", "valkey-open-webui.password", "webui-secret-key"}
    assert "ESTABLISH LOCAL CONNECTION" in again.output  # the run really was verbose
    for name, secret in secrets.items():
        assert secret not in again.output, f"{name} appears in ansible-playbook -vvv output"
    checked = run_playbook("deploy", extra, check=True)
    assert checked.returncode == 0 and checked.changed == 0, checked.output[-5000:]

    admin = (tmp_path / "credentials" / "valkey-admin.password").read_text().split()[0]
    valkey = engine.containers.get(extra["valkey_container_name"])
    open_webui = engine.containers.get(extra["open_webui_container_name"])
    assert _valkey_cli(valkey, admin, "SET", "open-webui:it-marker", "kept") == "OK"
    assert _valkey_cli(valkey, admin, "SAVE") == "OK"

    base = f"http://127.0.0.1:{extra['open_webui_port']}"
    signup = requests.post(f"{base}/api/v1/auths/signup", timeout=30,
                           json={"name": "Ada", "email": "ada@example.com", "password": "correct-horse-9"})
    assert signup.status_code == 200, signup.text
    token = signup.json()["token"]
    # The next deploy replaces this Valkey, and its ACL LOG with it: what sign-up was refused shows only here.
    assert _valkey_cli(valkey, admin, "ACL", "LOG") == "", "Valkey refused Open WebUI something during sign-up (ACL LOG)"

    # One Valkey setting changes: only Valkey is recreated, and its data survives.
    changed_valkey = run_playbook("deploy", {**extra, "valkey_maxclients": 5000})
    assert changed_valkey.returncode == 0, changed_valkey.output[-5000:]
    new_valkey = engine.containers.get(extra["valkey_container_name"])
    assert new_valkey.id != valkey.id
    assert engine.containers.get(extra["open_webui_container_name"]).id == open_webui.id
    assert _valkey_cli(new_valkey, admin, "GET", "open-webui:it-marker") == "kept"

    # One Open WebUI setting changes: it is recreated, the user is still there, the old token still valid.
    changed_webui = run_playbook("deploy", {**extra, "valkey_maxclients": 5000,
                                            "open_webui_env": {"WEBUI_NAME": "Realtime"}})
    assert changed_webui.returncode == 0, changed_webui.output[-5000:]
    assert engine.containers.get(extra["open_webui_container_name"]).id != open_webui.id
    assert engine.containers.get(extra["valkey_container_name"]).id == new_valkey.id
    me = requests.get(f"{base}/api/v1/auths/", headers={"Authorization": f"Bearer {token}"}, timeout=30)
    assert me.status_code == 200 and me.json()["email"] == "ada@example.com", me.text
    signin = requests.post(f"{base}/api/v1/auths/signin", timeout=30,
                           json={"email": "ada@example.com", "password": "correct-horse-9"})
    assert signin.status_code == 200, signin.text
    # Sign-in, token checks and the websocket manager ran as Open WebUI's ACL user against the recreated
    # Valkey, and it refused them nothing: with the check after sign-up, the rules cover every path.
    assert _valkey_cli(new_valkey, admin, "ACL", "LOG") == "", "Valkey refused Open WebUI something (ACL LOG)"

    # Teardown keeps the volumes; only purge deletes them.
    kept = run_playbook("teardown", extra)
    assert kept.returncode == 0, kept.output[-3000:]
    volumes = {v.name for v in engine.volumes.list()}
    assert {extra["valkey_volume_name"], extra["open_webui_volume_name"]} <= volumes
    assert not [c for c in engine.containers.list(all=True) if c.name.startswith(prefix)]
    purged = run_playbook("teardown", {**extra, "purge": True})
    assert purged.returncode == 0, purged.output[-3000:]
    assert leftovers(engine, prefix) == []


def _visible_config(container) -> str:
    """What `docker inspect` shows of how a container starts and is checked (the environment aside)."""
    config = container.attrs["Config"]
    return json.dumps([config["Cmd"], config["Entrypoint"], config["Healthcheck"], container.attrs["Args"]])


def test_turning_tls_on_recreates_both_and_keeps_keys_out_of_output(engine, stack, tmp_path):
    prefix, extra = stack
    plain = run_playbook("deploy", extra)
    assert plain.returncode == 0, plain.output[-5000:]
    before = {name: engine.containers.get(extra[name]).id for name in ("valkey_container_name", "open_webui_container_name")}

    tls_vars = {**extra, "valkey_tls_enabled": True, "valkey_tls_ca_dir": str(tmp_path / "ca")}
    tls = run_playbook("deploy", tls_vars, verbosity=3)
    # The run ends with the deploy playbook's verification, now over TLS.
    assert tls.returncode == 0, tls.output[-5000:]
    assert "websocket handshake ok" in tls.output
    for name, old_id in before.items():
        assert engine.containers.get(extra[name]).id != old_id, f"{extra[name]} was not recreated for TLS"

    credentials = tmp_path / "credentials"
    secrets = {f.name: f.read_text().strip() for f in credentials.iterdir() if not f.name.endswith(".crt")}
    secrets["ca.key"] = (tmp_path / "ca" / "ca.key").read_text().strip()
    assert {"valkey-tls.key", "webui-secret-key", "valkey-admin.password"} <= set(secrets)
    for name, secret in secrets.items():
        body = secret.splitlines()[1] if secret.startswith("-----BEGIN") else secret
        assert body not in tls.output, f"{name} appears in ansible-playbook -vvv output"
        for container_name in (extra["valkey_container_name"], extra["open_webui_container_name"]):
            container = engine.containers.get(container_name)
            assert body not in _visible_config(container), f"{name} shows in {container_name}'s command or health check"

    again = run_playbook("deploy", tls_vars)
    assert again.returncode == 0 and again.changed == 0, again.output[-5000:]

    purged = run_playbook("teardown", {**tls_vars, "purge": True})
    assert purged.returncode == 0, purged.output[-3000:]
    assert leftovers(engine, prefix) == [], "purge left the TLS files or containers behind"
