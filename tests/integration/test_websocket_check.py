"""owui.realtime.websocket_check against real Valkey and Open WebUI containers.

One module-scoped stack serves every case, because each Open WebUI start costs ~15 s:
  valkey   Valkey with a password, network alias `redis`, port published on 127.0.0.1
  good     the guide's setup: WEBSOCKET_MANAGER=redis, WEBSOCKET_REDIS_URL=redis://:pw@redis:6379/1
  stale    WEBSOCKET_MANAGER unset; its first start only printed the guide's proof line and exited,
           so the line sits in its log from an earlier start
  loop     WEBSOCKET_REDIS_URL on 127.0.0.1
  wsoff    ENABLE_WEBSOCKET_SUPPORT=false
  restart  the guide's setup again, for the one case that restarts a container
  gone     the guide's environment in a container that has exited (its command was `true`)
  valkey_gone  a Valkey container that has exited the same way
No case stops or restarts a container another case reads, so the cases pass in any order (run
them reversed: `pytest ... $(pytest --collect-only -q ... | tac)`).
The module runs the way users run it: `ansible localhost -m owui.realtime.websocket_check`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from conftest import Scratch
from playbook import OPEN_WEBUI_IMAGE, VALKEY_IMAGE, free_port, run_module

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
ANSIBLE = Path(sys.executable).with_name("ansible")
PASSWORD = f"wscpw{uuid.uuid4().hex[:12]}"
PROOF_LINE = "DEBUG:open_webui.socket.main:Using Redis to manage websockets."
MARKER = "/tmp/owui-it-first-start-done"


def wait_healthy(container, timeout: float = 240) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        container.reload()
        state = container.attrs["State"]
        if (state.get("Health") or {}).get("Status") == "healthy":
            return
        if state["Status"] == "exited":
            break
        time.sleep(1)
    logs = container.logs(tail=40).decode(errors="replace")
    pytest.fail(f"{container.name} did not become healthy ({container.attrs['State']['Status']}):\n{logs}")


class Stack:
    def __init__(self, scratch: Scratch) -> None:
        self.scratch = scratch
        self.names: dict[str, str] = {}
        self.ports: dict[str, int] = {}

    def url(self, which: str) -> str:
        return f"http://127.0.0.1:{self.ports[which]}"


@pytest.fixture(scope="module")
def stack(docker_client, require_image):
    require_image(VALKEY_IMAGE)
    require_image(OPEN_WEBUI_IMAGE)
    scratch = Scratch(docker_client, f"owui-it-wsc-{uuid.uuid4().hex[:6]}")
    stack = Stack(scratch)
    try:
        network = scratch.network("net").name
        stack.ports["valkey"] = free_port()
        valkey = scratch.container("valkey", VALKEY_IMAGE, network=network, aliases=["redis"],
                                   command=["valkey-server", "--requirepass", PASSWORD],
                                   ports={"6379/tcp": ("127.0.0.1", stack.ports["valkey"])})
        stack.names["valkey"] = valkey.name
        good_url = f"redis://:{PASSWORD}@redis:6379/1"
        base = {"WEBUI_SECRET_KEY": "owui-it-wsc-secret", "ENABLE_WEBSOCKET_SUPPORT": "true"}
        specs = {
            "good": ({**base, "WEBSOCKET_MANAGER": "redis", "WEBSOCKET_REDIS_URL": good_url}, True, None),
            "stale": ({**base, "WEBSOCKET_REDIS_URL": good_url}, True,
                      ["bash", "-c", (f"if [ ! -e {MARKER} ]; then touch {MARKER}; echo '{PROOF_LINE}'; exit 0; fi; "
                                      "exec bash start.sh")]),
            "loop": ({**base, "WEBSOCKET_MANAGER": "redis",
                      "WEBSOCKET_REDIS_URL": f"redis://:{PASSWORD}@127.0.0.1:6379/1"}, False, None),
            "wsoff": ({**base, "ENABLE_WEBSOCKET_SUPPORT": "false", "WEBSOCKET_MANAGER": "redis",
                       "WEBSOCKET_REDIS_URL": good_url}, True, None),
        }
        specs["restart"] = specs["good"]
        containers = {}
        for which, (env, publish, command) in specs.items():
            kwargs = {"network": network, "environment": env}
            if publish:
                stack.ports[which] = free_port()
                kwargs["ports"] = {"8080/tcp": ("127.0.0.1", stack.ports[which])}
            if command:
                kwargs["command"] = command
            containers[which] = scratch.container(which, OPEN_WEBUI_IMAGE, **kwargs)
            stack.names[which] = containers[which].name
        # The stale container's first start prints the line and exits; its second start is
        # Open WebUI itself, with the same environment: WEBSOCKET_MANAGER unset.
        containers["stale"].wait(timeout=60)
        containers["stale"].start()
        # Exited containers for the cases that need one stopped: nothing else uses them.
        gone_port = free_port()  # published, so nothing else takes it, but nothing listens there
        gone = scratch.container("gone", OPEN_WEBUI_IMAGE, network=network, command=["true"],
                                 environment=specs["good"][0], ports={"8080/tcp": ("127.0.0.1", gone_port)})
        valkey_gone = scratch.container("valkey-gone", VALKEY_IMAGE, network=network, command=["true"])
        stack.names.update(gone=gone.name, valkey_gone=valkey_gone.name)
        stack.ports["gone"] = gone_port
        with ThreadPoolExecutor(max_workers=len(containers)) as pool:
            list(pool.map(wait_healthy, containers.values()))
        for container in (gone, valkey_gone):
            assert container.wait(timeout=60)["StatusCode"] == 0
        yield stack
    finally:
        scratch.cleanup()


def run_check(check_mode: bool = False, **args) -> tuple[dict, str]:
    """Run the module ad hoc; return its result and everything Ansible printed."""
    result, output = run_module("websocket_check", args, check=check_mode)
    if result is None:
        pytest.fail(f"no module result in ansible's output:\n{output[-4000:]}")
    assert PASSWORD not in output, "the Valkey password leaked into the output"
    return result, output


def cause_ids(result: dict) -> list[str]:
    return [item["id"] for item in result.get("causes", [])]


def show(result: dict) -> str:
    return json.dumps({k: result.get(k) for k in ("msg", "causes", "checks")}, indent=1)[:6000]


def common(stack: Stack, which: str = "good", **extra) -> dict:
    args = {"valkey_container": stack.names["valkey"], "valkey_password": PASSWORD,
            "open_webui_containers": [stack.names[which]], "wait_timeout": 60}
    if which in stack.ports:
        args["open_webui_url"] = stack.url(which)
    args.update(extra)
    return args


def test_the_guides_setup_passes(stack):
    started = time.monotonic()
    result, _output = run_check(**common(stack))
    took = time.monotonic() - started
    assert not result.get("failed"), show(result)
    assert result["changed"] is False
    assert not result.get("warnings"), result.get("warnings")
    assert result["msg"].startswith("Open WebUI uses Valkey for websockets: PONG; 1/1 subscribed to socketio"), result["msg"]
    side = result["checks"]["valkey_side"]["evidence"]
    assert side["subscribers"] >= 1
    assert side["clients"][stack.names["good"]], show(result)
    assert side["keys"] > 0
    handshake = next(iter(result["checks"]["websocket"]["evidence"]["handshakes"].values()))
    assert handshake["ok"] and handshake["transport"] == "websocket"
    # Measured fact behind this module: Open WebUI 0.12.4 does not print the guide's line.
    assert result["checks"]["log_line"]["status"] == "failed"
    assert result["checks"]["log_line"]["required"] is False
    print(f"\nhealthy stack: module {result['elapsed']} s inside, ansible ad hoc run {took:.1f} s in all")


def test_credentials_come_from_open_webuis_url_when_not_given(stack):
    args = common(stack)
    del args["valkey_password"]
    result, _output = run_check(**args)
    assert not result.get("failed"), show(result)
    assert result["valkey"]["credentials"] == f"WEBSOCKET_REDIS_URL of '{stack.names['good']}'"
    assert "redis://:********@redis:6379/1" in json.dumps(result["checks"]["open_webui"])


def test_valkey_url_uses_redis_py_and_reaches_the_same_verdict(stack):
    args = common(stack, valkey_url=f"redis://:{PASSWORD}@127.0.0.1:{stack.ports['valkey']}")
    del args["valkey_password"], args["valkey_container"]
    result, _output = run_check(**args)
    assert not result.get("failed"), show(result)
    assert result["valkey"]["via"] == f"redis-py to redis://:********@127.0.0.1:{stack.ports['valkey']}"
    assert result["checks"]["valkey_side"]["evidence"]["clients"][stack.names["good"]]
    wrong, _output = run_check(**{**args, "valkey_password": "not-the-password"})
    assert cause_ids(wrong)[0] == "wrongpass", show(wrong)


def test_check_mode_runs_the_same_checks(stack):
    result, _output = run_check(check_mode=True, **common(stack))
    assert not result.get("failed"), show(result)
    assert result["changed"] is False
    assert result["checks"]["valkey_side"]["status"] == "ok"


def test_manager_unset_means_not_using_valkey(stack):
    result, _output = run_check(**common(stack, "stale"))
    assert result.get("failed"), show(result)
    assert "manager_not_redis" in cause_ids(result)
    assert "Open WebUI is not using Valkey" in result["msg"]
    assert result["attempts"] == 1, "a configuration fact must not be waited on"


def test_a_proof_line_from_an_earlier_start_does_not_count(stack, docker_client):
    whole_log = docker_client.containers.get(stack.names["stale"]).logs().decode(errors="replace")
    assert PROOF_LINE in whole_log, "the stale line should be in the container's log"
    result, _output = run_check(**common(stack, "stale", require=["ping", "valkey_side", "websocket", "log_line"]))
    assert result.get("failed"), show(result)
    scan = result["checks"]["log_line"]["evidence"][stack.names["stale"]]
    assert scan["found"] is False, show(result)
    # Only the current start was read (the engine's `since` already drops the earlier one).
    started_at = docker_client.containers.get(stack.names["stale"]).attrs["State"]["StartedAt"]
    assert scan["since"] == started_at
    assert scan["lines_scanned"] > 0
    assert "manager_not_redis" in cause_ids(result)


def test_loopback_url_fails_and_names_the_masked_url(stack):
    result, _output = run_check(**common(stack, "loop"))
    assert result.get("failed"), show(result)
    loopback = [c for c in result["causes"] if c["id"] == "loopback_url"]
    assert loopback, show(result)
    assert "redis://:********@127.0.0.1:6379/1" in loopback[0]["message"]


def test_wrong_password_is_named(stack):
    result, _output = run_check(**common(stack, valkey_password="not-the-password"))
    assert result.get("failed"), show(result)
    assert cause_ids(result)[0] == "wrongpass", show(result)
    assert "WRONGPASS" in result["msg"]
    assert result["attempts"] == 1


def test_check_pointed_at_another_db_is_reported(stack):
    result, _output = run_check(**common(stack, valkey_db=2))
    assert result.get("failed"), show(result)
    assert {"other_db", "db_mismatch"} <= set(cause_ids(result)), show(result)
    assert "another db than Open WebUI uses" in result["msg"]
    assert result["checks"]["valkey_side"]["evidence"]["keys_in_other_dbs"].get("1", 0) > 0


def test_websocket_support_off_fails_the_handshake(stack):
    result, _output = run_check(**common(stack, "wsoff"))
    assert result.get("failed"), show(result)
    websocket = result["checks"]["websocket"]
    assert websocket["status"] == "failed"
    assert not next(iter(websocket["evidence"]["handshakes"].values()))["ok"]
    assert "websocket_disabled" in [c["id"] for c in websocket["causes"]]


def test_waits_while_open_webui_restarts(stack, docker_client):
    docker_client.containers.get(stack.names["restart"]).restart(timeout=10)
    result, _output = run_check(**common(stack, "restart", wait_timeout=180))
    assert not result.get("failed"), show(result)
    assert result["attempts"] > 1, "the check should have caught Open WebUI still starting"


def test_valkey_stopped_fails(stack):
    result, _output = run_check(**common(stack, valkey_container=stack.names["valkey_gone"]))
    assert result.get("failed"), show(result)
    assert "valkey_container_not_running" in cause_ids(result)
    assert result["checks"]["ping"]["status"] == "failed"


def test_open_webui_stopped_fails(stack):
    result, _output = run_check(**common(stack, "gone"))
    assert result.get("failed"), show(result)
    assert "container_not_running" in cause_ids(result)
    assert result["checks"]["websocket"]["status"] == "failed"
    assert result["attempts"] == 1, "a stopped container is not waited on"


def test_module_documentation_renders():
    proc = subprocess.run([str(ANSIBLE.with_name("ansible-doc")), "owui.realtime.websocket_check"], cwd=ROOT,
                          env=dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg")),
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    assert "wait_timeout" in proc.stdout
