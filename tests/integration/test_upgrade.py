"""owui.realtime.upgrade between two real Open WebUI releases (0.12.3 -> 0.12.4), and its rollback when the
new image never becomes healthy. One stack for the file, deployed on 0.12.3 with a user, a chat and a
Valkey key; every test starts from whatever release the stack runs, so any order or subset works."""

from __future__ import annotations

import os
import time
from pathlib import Path

import docker
import pytest
import requests
from playbook import OPEN_WEBUI_IMAGE, VALKEY_IMAGE, free_port, remove_everything, run_playbook, stack_vars, unique_prefix

pytestmark = pytest.mark.integration

OLD_IMAGE = os.environ.get("OWUI_TEST_OPEN_WEBUI_OLD_IMAGE", "localhost/owui-test/open-webui:0.12.3")
BROKEN_IMAGE = os.environ.get("OWUI_TEST_OPEN_WEBUI_BROKEN_IMAGE", "localhost/owui-test/open-webui:never-healthy")
VALKEY_NEXT_IMAGE = os.environ.get("OWUI_TEST_VALKEY_NEXT_IMAGE", "localhost/owui-test/valkey:8.1-next")


class Stack:
    def __init__(self, engine: docker.DockerClient, extra: dict, admin: str) -> None:
        self.engine = engine
        self.extra = extra
        self.admin = admin
        self.base = f"http://127.0.0.1:{extra['open_webui_port']}"
        self.token = ""
        self.chat_id = ""

    def container(self, role: str):
        return self.engine.containers.get(self.extra[f"{role}_container_name"])

    def image_of(self, role: str) -> str:
        return self.container(role).attrs["Config"]["Image"]

    def valkey(self, *args: str) -> str:
        _exit_code, out = self.container("valkey").exec_run(["valkey-cli", "--no-auth-warning", *args],
                                                            environment={"REDISCLI_AUTH": self.admin})
        return out.decode().strip()

    def upgrade(self, backup: bool = True, **images: str):
        return run_playbook("upgrade", {**self.extra, **images, "upgrade_backup": backup})

    def assert_data_kept(self) -> None:
        """The login issued on 0.12.3 still works, the user and the chat are there, the Valkey key too."""
        auth = {"Authorization": f"Bearer {self.token}"}
        me = requests.get(f"{self.base}/api/v1/auths/", headers=auth, timeout=30)
        assert me.status_code == 200 and me.json()["email"] == "ada@example.com", me.text
        chat = requests.get(f"{self.base}/api/v1/chats/{self.chat_id}", headers=auth, timeout=30)
        assert chat.status_code == 200 and chat.json()["chat"]["title"] == "Before the upgrade", chat.text
        assert self.valkey("GET", "open-webui:it-upgrade-marker") == "kept"


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    engine = docker.from_env()
    prefix = unique_prefix("up")
    tmp = tmp_path_factory.mktemp("upgrade")
    extra = {**stack_vars(prefix, tmp, free_port()), "open_webui_image": OLD_IMAGE,
             "open_webui_healthcheck_interval": "2s", "backup_dir": str(tmp / "backups")}
    try:
        first = run_playbook("deploy", extra)
        assert first.returncode == 0, first.output[-5000:]
        admin = (tmp / "credentials" / "valkey-admin.password").read_text().split()[0]
        deployed = Stack(engine, extra, admin)
        signup = requests.post(f"{deployed.base}/api/v1/auths/signup", timeout=30,
                               json={"name": "Ada", "email": "ada@example.com", "password": "correct-horse-9"})
        assert signup.status_code == 200, signup.text
        deployed.token = signup.json()["token"]
        chat = requests.post(f"{deployed.base}/api/v1/chats/new", timeout=30,
                             headers={"Authorization": f"Bearer {deployed.token}"},
                             json={"chat": {"title": "Before the upgrade", "messages": []}})
        assert chat.status_code == 200, chat.text
        deployed.chat_id = chat.json()["id"]
        assert deployed.valkey("SET", "open-webui:it-upgrade-marker", "kept") == "OK"
        deployed.assert_data_kept()
        yield deployed
    finally:
        remove_everything(engine, prefix)
        engine.close()


def test_an_upgrade_to_the_next_release_keeps_users_chats_and_logins(stack):
    if stack.image_of("open_webui") != OLD_IMAGE:
        # Another test of this file upgraded the stack already; this one proves nothing then.
        pytest.skip(f"the stack runs {stack.image_of('open_webui')} already, not {OLD_IMAGE}")
    before = stack.container("open_webui").id
    started = time.monotonic()
    run = stack.upgrade(open_webui_image=OPEN_WEBUI_IMAGE, valkey_image=VALKEY_IMAGE)
    print(f"upgrade 0.12.3 -> 0.12.4: {time.monotonic() - started:.0f} s")
    assert run.returncode == 0, run.output[-6000:]
    assert stack.image_of("open_webui") == OPEN_WEBUI_IMAGE
    assert stack.container("open_webui").id != before
    stack.assert_data_kept()
    version = requests.get(f"{stack.base}/api/version", timeout=30).json()["version"]
    assert version == "0.12.4", version
    # The upgrade backed up first.
    backup = Path(stack.extra["backup_dir"]) / "latest"
    assert {p.name for p in backup.iterdir()} == {f"{stack.extra['valkey_volume_name']}.tar.gz",
                                                  f"{stack.extra['open_webui_volume_name']}.tar.gz"}


def test_a_release_that_never_becomes_healthy_is_rolled_back(stack):
    previous = stack.image_of("open_webui")
    # The backup before an upgrade is proven by the test above and test_backup.py.
    run = stack.upgrade(backup=False, open_webui_image=BROKEN_IMAGE, valkey_image=stack.image_of("valkey"))
    assert run.returncode != 0, run.output[-6000:]
    assert f"did not work on {BROKEN_IMAGE}" in run.output, run.output[-6000:]
    assert f"Rolled back to the previous image {previous}" in run.output, run.output[-6000:]
    assert "exiting at start on purpose" in run.output, "the failure does not show the new container's log"
    assert stack.image_of("open_webui") == previous
    assert stack.container("open_webui").attrs["State"]["Health"]["Status"] == "healthy"
    verified = run_playbook("verify", stack.extra)
    assert verified.returncode == 0, verified.output[-5000:]
    stack.assert_data_kept()


def test_an_upgrade_of_valkey_keeps_its_keys(stack):
    before = stack.container("valkey").id
    target = VALKEY_NEXT_IMAGE if stack.image_of("valkey") != VALKEY_NEXT_IMAGE else VALKEY_IMAGE
    run = stack.upgrade(backup=False, open_webui_image=stack.image_of("open_webui"), valkey_image=target)
    assert run.returncode == 0, run.output[-6000:]
    assert stack.image_of("valkey") == target
    assert stack.container("valkey").id != before
    stack.assert_data_kept()
