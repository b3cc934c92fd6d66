"""Case 5 and case 2 with one Open WebUI start (each costs a minute or more on two cores).

Case 5: the test host's Docker daemon restarted (SIGTERM, as `systemctl restart docker` does); both
containers must come back by their restart policies, the same containers, with their data.
Case 2: Valkey is then stopped at once, so Open WebUI, which the engine started alongside it, comes
up while Valkey is down. The deploy, run as an operator would, must start Valkey and wait for its
health check before it comes to Open WebUI, and Open WebUI must not be left with a dead Socket.IO
listener: it subscribes again by itself, unrestarted, and websocket_check passes. The deploy's own
verify runs right after Valkey's health check, while Open WebUI is still reconnecting with the
outage's errors in its log: websocket_check must wait for the subscription, not give up on them."""

from __future__ import annotations

import os
import subprocess
import time
import uuid

import pytest
from faultlib import measured, state, wait_for

testinfra_hosts = ["molecule-faults"]

WAITED_FOR_VALKEY = "Wait until Valkey answers its health check"
STARTED_OPEN_WEBUI = "Start the Open WebUI container"
WAITED_FOR_OPEN_WEBUI = "Wait until Open WebUI answers its health check"
VERIFY_PLAY = "PLAY [Verify that Open WebUI's websockets go through Valkey]"


def deploy() -> subprocess.CompletedProcess:
    return subprocess.run(
        ["ansible-playbook", "-i", os.environ["MOLECULE_INVENTORY_FILE"], "owui.realtime.deploy"],
        capture_output=True, text=True, timeout=600, check=False,
        env=dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0"))


@pytest.fixture(scope="module")
def engine_restart(valkey, open_webui, admin, subscribers, back_in_service, testhost):
    back_in_service()
    before = {"valkey": state(valkey), "open_webui": state(open_webui)}
    nonce = uuid.uuid4().hex
    assert admin("SET", "faults:engine-restart", nonce) == "OK"
    started = time.monotonic()
    proc = testhost("restart-engine")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    engine_back = time.monotonic() - started
    _passed, valkey_back = wait_for(lambda: state(valkey)["started_at"] != before["valkey"]["started_at"]
                                    and admin("PING") == "PONG", 60)
    running = state(valkey)["status"] == "running"
    after = {"valkey": state(valkey), "value": admin("--raw", "GET", "faults:engine-restart") if running else None}
    measured(f"case 5: dockerd stopped and answering again after {engine_back:.1f} s; Valkey answered "
             f"{valkey_back:.1f} s later")
    return {"before": before, "after": after, "nonce": nonce, "started": started}


@pytest.fixture(scope="module")
def start_order(engine_restart, valkey, open_webui, subscribers, websocket_check):
    valkey.stop(timeout=10)
    stopped = time.monotonic()
    _passed, took = wait_for(lambda: state(open_webui)["health"] == "healthy", 240, interval=1)
    without_valkey = state(open_webui)
    measured(f"case 5/2: Open WebUI, back by its restart policy, {without_valkey['health']} with Valkey stopped "
             f"{took:.1f} s later ({time.monotonic() - engine_restart['started']:.1f} s after the engine restart "
             "began)")
    began = time.monotonic()
    proc = deploy()
    deployed = time.monotonic() - began
    _passed, resubscribed = wait_for(lambda: subscribers() >= 1, 120)
    result = websocket_check(wait_timeout=60)
    output = proc.stdout + proc.stderr
    verdict = next((line.strip() for line in output.splitlines() if "websockets are not proven" in line
                    or "Open WebUI uses Valkey for websockets" in line), "no verdict")
    measured(f"case 2: the deploy with Valkey stopped took {deployed:.1f} s (rc {proc.returncode}; its verify: "
             f"{verdict[:300]}); Open WebUI, which had run {began - stopped:.1f} s without Valkey, was subscribed "
             f"{resubscribed:.1f} s after the deploy ended")
    return {"rc": proc.returncode, "output": output, "without_valkey": without_valkey,
            "valkey": state(valkey), "open_webui": state(open_webui), "subscribers": subscribers(),
            "check": result}


def test_valkey_comes_back_by_its_restart_policy_with_its_data(engine_restart, valkey, last_log_lines):
    before, after = engine_restart["before"]["valkey"], engine_restart["after"]["valkey"]
    assert after["id"] == before["id"], "Valkey was recreated"
    assert after["status"] == "running", (after, last_log_lines(valkey))
    assert engine_restart["after"]["value"] == engine_restart["nonce"]


def test_open_webui_comes_back_healthy_by_its_restart_policy(engine_restart, start_order, open_webui, last_log_lines):
    before, after = engine_restart["before"]["open_webui"], start_order["without_valkey"]
    assert after["id"] == before["id"], "Open WebUI was recreated"
    assert after["started_at"] != before["started_at"], "Open WebUI did not go through the restart"
    assert after["status"] == "running" and after["health"] == "healthy", (after, last_log_lines(open_webui))


def test_the_deploy_waits_for_valkey_before_open_webui(start_order):
    output = start_order["output"]
    # Every play before the verify passed (the verify's own verdict has a test of its own).
    assert VERIFY_PLAY in output, output[-3000:]
    assert WAITED_FOR_VALKEY in output, output[-3000:]
    assert output.index(WAITED_FOR_VALKEY) < output.index(STARTED_OPEN_WEBUI) < output.index(WAITED_FOR_OPEN_WEBUI), \
        "the deploy came to Open WebUI before Valkey was healthy"
    assert start_order["valkey"]["health"] == "healthy"


def test_the_deploys_own_verify_waits_until_open_webui_has_subscribed_again(start_order):
    assert start_order["rc"] == 0, start_order["output"][-3000:]


def test_open_webui_started_without_valkey_is_not_left_with_a_dead_listener(start_order, open_webui, last_log_lines):
    assert start_order["open_webui"]["started_at"] == start_order["without_valkey"]["started_at"], \
        "Open WebUI was restarted after Valkey came up: its start without Valkey did not recover by itself"
    assert start_order["subscribers"] >= 1, last_log_lines(open_webui)
    checks = start_order["check"]["checks"]
    for name in ("ping", "valkey_side", "websocket"):
        assert checks[name]["status"] == "ok", checks[name]
