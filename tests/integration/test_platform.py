"""The offline test images behave like the official ones where a deployment depends on them.

Real containers from hack/images.sh, no mocks. Containers that need a network get an
``internal`` one: they reach each other and nothing outside this machine.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import docker
import pytest
from docker.models.containers import Container
from playbook import OPEN_WEBUI_IMAGE, VALKEY_IMAGE

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
# The capabilities of the guide's compose file for Valkey.
VALKEY_CAPS = {"cap_drop": ["ALL"], "cap_add": ["SETGID", "SETUID", "DAC_OVERRIDE"]}
OPEN_WEBUI_HEALTHY_WITHIN = 180  # seconds; ~15-30 s on 2 cores
# How long after /health answers Open WebUI may take to subscribe to Valkey's socketio channel. The
# negative test watches as long as the positive one waits, so a late subscription cannot pass it.
SUBSCRIBES_WITHIN = 15  # seconds
SECOND = 1_000_000_000  # the Engine API counts health check intervals in nanoseconds
# The image's own HEALTHCHECK test, probed every 2 s instead of the default 30 s.
FAST_HEALTHCHECK = {"interval": 2 * SECOND, "timeout": 10 * SECOND, "retries": 3}


def wait_until(what: str, probe: Callable[[], object], timeout: float, interval: float = 0.5):
    """Poll ``probe`` until it returns something truthy; fail naming ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not within {timeout:.0f} s (last probe: {value!r})")
        time.sleep(interval)


def run(container: Container, *cmd: str) -> tuple[int, str]:
    code, out = container.exec_run(list(cmd))
    return code, out.decode(errors="replace").strip()


def valkey_cli(container: Container, *args: str) -> str:
    code, out = run(container, "valkey-cli", *args)
    assert code == 0, f"valkey-cli {' '.join(args)} exited {code}: {out}"
    return out


def holds_for(what: str, probe: Callable[[], object], duration: float, interval: float = 0.5) -> None:
    """Poll ``probe`` for ``duration`` seconds; fail, saying when, as soon as it returns something falsy."""
    start = time.monotonic()
    while True:
        value = probe()
        if not value:
            pytest.fail(f"{what}: no longer true {time.monotonic() - start:.1f} s after the first look "
                        f"(last probe: {value!r})")
        if time.monotonic() - start >= duration:
            return
        time.sleep(interval)


def state(container: Container) -> dict:
    container.reload()
    return container.attrs["State"]


def answers_ping(container: Container) -> bool:
    if state(container)["Status"] != "running":
        pytest.fail(f"{container.name} stopped: {state(container)}")
    return run(container, "valkey-cli", "ping") == (0, "PONG")


@pytest.fixture
def valkey_image(require_image) -> str:
    return require_image(VALKEY_IMAGE)


@pytest.fixture
def open_webui_image(require_image) -> str:
    return require_image(OPEN_WEBUI_IMAGE)


# --- Valkey -------------------------------------------------------------------------------


def test_valkey_serves_as_user_valkey_with_the_compose_capabilities(scratch, valkey_image):
    data = scratch.volume("data")
    valkey = scratch.container("valkey", valkey_image, command=["valkey-server", "--save", "30", "1"],
                               volumes={data.name: {"bind": "/data", "mode": "rw"}},
                               network_mode="none", **VALKEY_CAPS)
    wait_until("valkey-cli ping answers PONG", lambda: answers_ping(valkey), timeout=30)

    _exit_code, uid = run(valkey, "id", "-u", "valkey")
    _exit_code, status = run(valkey, "cat", "/proc/1/status")
    uids = next(line.split()[1:] for line in status.splitlines() if line.startswith("Uid:"))
    _exit_code, comm = run(valkey, "cat", "/proc/1/comm")
    assert comm == "valkey-server"
    assert uids == [uid] * 4, f"PID 1 runs as {uids}, user valkey is {uid}"
    assert run(valkey, "stat", "-c", "%U", "/data") == (0, "valkey")
    assert valkey_cli(valkey, "CONFIG", "GET", "protected-mode").split() == ["protected-mode", "no"]
    # The volume is really writable by valkey: a SAVE lands there as valkey's file.
    assert valkey_cli(valkey, "SAVE") == "OK"
    assert run(valkey, "stat", "-c", "%U", "/data/dump.rdb") == (0, "valkey")


def test_valkey_keeps_an_explicit_protected_mode(scratch, valkey_image):
    valkey = scratch.container("valkey", valkey_image, command=["--protected-mode", "yes"],
                               network_mode="none", **VALKEY_CAPS)
    wait_until("valkey-cli ping answers PONG", lambda: answers_ping(valkey), timeout=30)
    assert valkey_cli(valkey, "CONFIG", "GET", "protected-mode").split() == ["protected-mode", "yes"]


def test_valkey_does_not_start_without_setuid_and_setgid(scratch, valkey_image):
    valkey = scratch.container("valkey", valkey_image, network_mode="none",
                               cap_drop=["ALL"], cap_add=["DAC_OVERRIDE"])
    final = wait_until("the container exits",
                       lambda: (now := state(valkey))["Status"] in ("exited", "dead") and now, timeout=30)
    logs = valkey.logs().decode(errors="replace")
    assert final["ExitCode"] != 0, f"exited 0 without SETUID/SETGID; logs:\n{logs}"
    assert "setpriv" in logs, f"expected setpriv to refuse the switch to valkey; logs:\n{logs}"


# --- Open WebUI with Valkey as its websocket manager ---------------------------------------


def start_stack(scratch, valkey_image: str, open_webui_image: str,
                **open_webui_env: str) -> tuple[Container, Container, str]:
    """Valkey (alias ``valkey``) and Open WebUI on an internal network; returns both and the network."""
    network = scratch.network("net", driver="bridge", internal=True)
    valkey = scratch.container("valkey", valkey_image, network=network.name, aliases=["valkey"], **VALKEY_CAPS)
    env = {"ENABLE_WEBSOCKET_SUPPORT": "true", "WEBSOCKET_REDIS_URL": "redis://valkey:6379/1", **open_webui_env}
    open_webui = scratch.container("open-webui", open_webui_image, network=network.name, environment=env,
                                   healthcheck=FAST_HEALTHCHECK)
    return valkey, open_webui, network.name


def health(container: Container) -> str:
    current = state(container)
    if current["Status"] != "running":
        pytest.fail(f"{container.name} stopped before it became healthy: exit {current['ExitCode']}")
    return current["Health"]["Status"]


def wait_healthy(container: Container) -> None:
    wait_until(f"{container.name} becomes healthy", lambda: health(container) == "healthy",
               timeout=OPEN_WEBUI_HEALTHY_WITHIN, interval=1)
    code, body = run(container, "curl", "--silent", "--fail", "http://localhost:8080/health")
    assert code == 0 and json.loads(body) == {"status": True}, f"/health answered {code}: {body}"


def numsub(valkey: Container, channel: str) -> int:
    name, count = valkey_cli(valkey, "PUBSUB", "NUMSUB", channel).split()
    assert name == channel
    return int(count)


def test_open_webui_subscribes_to_socketio_on_valkey(scratch, valkey_image, open_webui_image):
    valkey, open_webui, network = start_stack(scratch, valkey_image, open_webui_image, WEBSOCKET_MANAGER="redis")
    wait_healthy(open_webui)

    subscribers = wait_until("Open WebUI subscribes to the socketio channel",
                             lambda: numsub(valkey, "socketio"), timeout=SUBSCRIBES_WITHIN)
    assert subscribers >= 1
    open_webui.reload()
    address = open_webui.attrs["NetworkSettings"]["Networks"][network]["IPAddress"]
    clients = valkey_cli(valkey, "CLIENT", "LIST")
    assert f"addr={address}:" in clients, f"no Valkey client from Open WebUI at {address}:\n{clients}"


def test_without_the_redis_manager_nothing_subscribes(scratch, valkey_image, open_webui_image):
    """The negative of the test above: it proves the NUMSUB check can fail."""
    valkey, open_webui, _network = start_stack(scratch, valkey_image, open_webui_image)
    wait_healthy(open_webui)
    holds_for("nothing subscribes to socketio", lambda: numsub(valkey, "socketio") == 0, SUBSCRIBES_WITHIN)


def test_the_images_are_built_from_the_current_recipes(require_image):
    """Tests of a stale image prove nothing about the recipe in this checkout."""
    listing = subprocess.run([str(ROOT / "hack" / "images.sh"), "list"], capture_output=True, text=True,
                             check=True, timeout=60).stdout
    for image in (VALKEY_IMAGE, OPEN_WEBUI_IMAGE):
        require_image(image)
        line = next((line for line in listing.splitlines() if line.split()[0] == image), None)
        if line is None:
            pytest.skip(f"{image} is not an image hack/images.sh builds")
        assert line.split()[2] == "present", f"{line}\nrebuild with `make images` (hack/images.sh build)"


def test_scratch_removes_what_it_made(docker_client, scratch, valkey_image):
    network = scratch.network("net", internal=True)
    container = scratch.container("c", valkey_image, network=network.name)
    scratch.cleanup()
    for get, name in ((docker_client.containers.get, container.name), (docker_client.networks.get, network.name)):
        with pytest.raises(docker.errors.NotFound):
            get(name)
