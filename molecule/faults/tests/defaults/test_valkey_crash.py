"""Case 1 and the default half of case 3: valkey-server killed with SIGKILL (as the OOM killer does)
with the role's default persistence (append-only file, fsync every second, plus `save 30 1`).

The stack must come back without a redeploy: Valkey restarted by its restart policy, Open WebUI
subscribed again, websocket_check passing, and a key written 2 s before the kill still there."""

from __future__ import annotations

import time
import uuid

import pytest
from faultlib import measured, state, wait_for

testinfra_hosts = ["molecule-faults"]


@pytest.fixture(scope="module")
def crash(valkey, open_webui, admin, subscribers, sigkill_valkey, back_in_service, websocket_check):
    took = back_in_service()
    assert state(valkey)["health"] == "healthy", "the stack is not in service before the fault"
    before = {"valkey": state(valkey), "open_webui": state(open_webui), "subscribers": subscribers(),
              "keys": int(admin("--raw", "DBSIZE"))}
    measured(f"case 1: stack in service after {took:.1f} s; {before['subscribers']} subscriber(s), "
             f"{before['keys']} keys in db 1")
    # A snapshot now, so the next one by `save 30 1` is 30 s away: the key below then survives only
    # if the append-only file has it, which is what the default mode promises.
    last = admin("LASTSAVE")
    assert "Background saving started" in admin("BGSAVE"), "BGSAVE refused"
    wait_for(lambda: admin("LASTSAVE") != last, 30)
    nonce = uuid.uuid4().hex
    assert admin("SET", "faults:aof-2s", nonce) == "OK"
    time.sleep(2)

    killed = sigkill_valkey()
    back, running = wait_for(lambda: state(valkey)["restarts"] > before["valkey"]["restarts"]
                             and state(valkey)["status"] == "running", 60)
    if not back:  # nothing else can come back; the tests show the container's state
        measured(f"case 1: Valkey did not run again within {running:.0f} s of SIGKILL")
        return {"before": before, "after": {"valkey": state(valkey), "open_webui": state(open_webui),
                                            "subscribers": 0, "keys": 0, "value": None},
                "nonce": nonce, "check": {"checks": {}}}
    _passed, pong = wait_for(lambda: admin("PING") == "PONG", 60)
    _passed, resubscribed = wait_for(lambda: subscribers() >= before["subscribers"], 120)
    after_kill = time.monotonic() - killed
    result = websocket_check(wait_timeout=60)
    checked = time.monotonic() - killed
    after = {"valkey": state(valkey), "open_webui": state(open_webui), "subscribers": subscribers(),
             "keys": int(admin("--raw", "DBSIZE")), "value": admin("--raw", "GET", "faults:aof-2s")}
    measured(f"case 1: after SIGKILL valkey-server ran again in {running:.1f} s, answered PONG "
             f"{pong:.1f} s later, Open WebUI was subscribed again {resubscribed:.1f} s after that "
             f"({after_kill:.1f} s from the kill), websocket_check passed {checked:.1f} s after the kill")
    measured(f"case 3 (AOF everysec): key written 2 s before SIGKILL "
             f"{'survived' if after['value'] == nonce else 'was LOST'}; keys in db 1 {before['keys']} -> {after['keys']}")
    return {"before": before, "after": after, "nonce": nonce, "check": result}


def test_valkey_is_restarted_by_its_restart_policy(crash, valkey, last_log_lines):
    before, after = crash["before"]["valkey"], crash["after"]["valkey"]
    assert after["id"] == before["id"], "Valkey was recreated, not restarted"
    assert after["restarts"] == before["restarts"] + 1, (after, last_log_lines(valkey))
    assert after["status"] == "running" and after["health"] == "healthy", (after, last_log_lines(valkey))


def test_open_webui_resubscribes_without_a_restart(crash, open_webui, last_log_lines):
    assert crash["after"]["open_webui"]["started_at"] == crash["before"]["open_webui"]["started_at"], \
        "Open WebUI was restarted"
    assert crash["after"]["subscribers"] >= crash["before"]["subscribers"], last_log_lines(open_webui)


def test_websocket_check_passes_without_a_redeploy(crash):
    checks = crash["check"]["checks"]
    for name in ("ping", "valkey_side", "websocket"):
        assert checks.get(name, {}).get("status") == "ok", checks.get(name, "not run: Valkey did not come back")


def test_a_key_written_2_s_before_the_kill_survives_with_the_default_aof(crash, admin):
    assert crash["after"]["value"] == crash["nonce"], "the key written 2 s before SIGKILL was lost"
    assert admin("--raw", "CONFIG", "GET", "appendonly").splitlines() == ["appendonly", "yes"]
    assert admin("--raw", "CONFIG", "GET", "appendfsync").splitlines() == ["appendfsync", "everysec"]
