"""owui.realtime.backup and owui.realtime.restore on a real stack: what was written before the backup is
back after the restore, what was written after it is gone - in Valkey and in Open WebUI's database,
whether that is SQLite in Open WebUI's volume or PostgreSQL (the inventory's postgres group)."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
import requests
from playbook import INVENTORY, free_port, leftovers, remove_everything, run_playbook, stack_vars, unique_prefix

pytestmark = pytest.mark.integration
POSTGRES_IMAGE = os.environ.get("OWUI_TEST_POSTGRES_IMAGE", "localhost/owui-test/postgres:15")


def _database(database, prefix, tmp_path):
    """(inventory, extra vars, backup files besides the volumes') for Open WebUI's database."""
    if database == "sqlite":
        return INVENTORY, {}, set()
    # One host in every group: Valkey, PostgreSQL and the one replica, which migrates the database.
    local = {"ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}"}
    inventory = tmp_path / "postgres-topology.yml"
    inventory.write_text(json.dumps({"all": {"children": {
        group: {"hosts": {"localhost": local}} for group in ("valkey", "postgres", "open_webui")}}}))
    extra = {"postgres_image": POSTGRES_IMAGE, "postgres_pull": "never",
             "postgres_container_name": f"{prefix}-postgres", "postgres_volume_name": f"{prefix}-postgres-data",
             "postgres_credentials_dir": str(tmp_path / "credentials")}
    return inventory, extra, {f"{prefix}-postgres.sql"}


def _valkey(engine, extra, admin, *args):
    _exit_code, out = engine.containers.get(extra["valkey_container_name"]).exec_run(
        ["valkey-cli", "--no-auth-warning", *args], environment={"REDISCLI_AUTH": admin})
    return out.decode().strip()


def _signup(base, name):
    reply = requests.post(f"{base}/api/v1/auths/signup", timeout=30,
                          json={"name": name, "email": f"{name.lower()}@example.com", "password": "correct-horse-9"})
    assert reply.status_code == 200, reply.text
    return reply.json()["token"]


def _add_user(base, token, name):
    """Sign-up is closed after the first account: the admin adds the others."""
    reply = requests.post(f"{base}/api/v1/auths/add", timeout=30, headers={"Authorization": f"Bearer {token}"},
                          json={"name": name, "email": f"{name.lower()}@example.com", "password": "correct-horse-9",
                                "role": "user"})
    assert reply.status_code == 200, reply.text


def _signin(base, name):
    return requests.post(f"{base}/api/v1/auths/signin", timeout=30,
                         json={"email": f"{name.lower()}@example.com", "password": "correct-horse-9"}).status_code


@pytest.mark.parametrize("database", ["sqlite", "postgres"])
def test_a_restore_brings_back_what_was_backed_up_and_drops_what_came_after(engine, require_image, tmp_path, database):
    prefix = unique_prefix("bk")
    backups = tmp_path / "backups"
    fetched = tmp_path / "fetched"
    inventory, database_vars, database_files = _database(database, prefix, tmp_path)
    if database_vars:
        require_image(POSTGRES_IMAGE)
    extra = {**stack_vars(prefix, tmp_path, free_port()), "open_webui_healthcheck_interval": "2s",
             "backup_dir": str(backups), **database_vars}
    base = f"http://127.0.0.1:{extra['open_webui_port']}"
    try:
        deployed = run_playbook("deploy", extra, inventory=inventory)
        assert deployed.returncode == 0, deployed.output[-5000:]
        admin = (tmp_path / "credentials" / "valkey-admin.password").read_text().split()[0]

        # Before the backup: a key, an admin (the first sign-up) and a user.
        assert _valkey(engine, extra, admin, "SET", "open-webui:it-before", "1") == "OK"
        token = _signup(base, "Ada")
        _add_user(base, token, "Bob")

        started = time.monotonic()
        backup = run_playbook("backup", {**extra, "backup_name": "before", "backup_fetch_dir": str(fetched)},
                              inventory=inventory)
        print(f"backup ({database}): {time.monotonic() - started:.0f} s")
        assert backup.returncode == 0, backup.output[-5000:]
        files = {f"{extra['valkey_volume_name']}.tar.gz", f"{extra['open_webui_volume_name']}.tar.gz", *database_files}
        assert {p.name for p in (backups / "before").iterdir()} == files
        assert {p.name for p in (fetched / "localhost" / "before").iterdir()} == files
        assert (backups / "latest").resolve() == (backups / "before").resolve()

        # After the backup: another key, another user, and Bob removed.
        assert _valkey(engine, extra, admin, "SET", "open-webui:it-after", "1") == "OK"
        _add_user(base, token, "Cy")
        auth = {"Authorization": f"Bearer {token}"}
        users = requests.get(f"{base}/api/v1/users/", headers=auth, timeout=30).json()
        users = users.get("users", users) if isinstance(users, dict) else users
        bob = next(u for u in users if u["email"] == "bob@example.com")
        removed = requests.delete(f"{base}/api/v1/users/{bob['id']}", headers=auth, timeout=30)
        assert removed.status_code == 200, removed.text
        assert _signin(base, "Bob") != 200 and _signin(base, "Cy") == 200

        started = time.monotonic()
        restore = run_playbook("restore", extra, inventory=inventory)
        print(f"restore ({database}): {time.monotonic() - started:.0f} s")
        assert restore.returncode == 0, restore.output[-6000:]

        assert _valkey(engine, extra, admin, "GET", "open-webui:it-before") == "1"
        assert _valkey(engine, extra, admin, "EXISTS", "open-webui:it-after") == "0"
        assert _signin(base, "Ada") == 200 and _signin(base, "Bob") == 200
        assert _signin(base, "Cy") != 200, "a user signed up after the backup survived the restore"
        me = requests.get(f"{base}/api/v1/auths/", headers=auth, timeout=30)
        assert me.status_code == 200, "a login issued before the backup is refused after the restore"
    finally:
        remove_everything(engine, prefix)
    assert leftovers(engine, prefix) == []


def test_a_restore_of_a_missing_backup_stops_before_anything_changes(engine, tmp_path):
    prefix = unique_prefix("bk")
    extra = {**stack_vars(prefix, tmp_path, free_port()), "backup_dir": str(tmp_path / "backups"),
             "backup_name": "never-made"}
    run = run_playbook("restore", extra)
    assert run.returncode != 0, run.output[-3000:]
    assert "never-made" in run.output and "backup_name" in run.output, run.output[-3000:]
    assert run.changed == 0
    assert leftovers(engine, prefix) == []
    assert not Path(extra["backup_dir"]).exists() or not any(Path(extra["backup_dir"]).iterdir())
