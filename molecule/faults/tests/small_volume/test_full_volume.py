"""Case 4: Valkey's data volume full. Writes fail with MISCONF, websocket_check names the cause and
the fix, and once space is freed writes resume by themselves, Open WebUI untouched."""

from __future__ import annotations

import time

import pytest
from faultlib import measured, state, wait_for

testinfra_hosts = ["molecule-faults"]

VOLUME = "molecule-faults-valkey-small"
OPTIONS = {"type": "tmpfs", "device": "tmpfs", "o": "size=8m,uid=999,gid=999"}
FILL = "/data/faults-fill"


@pytest.fixture(scope="module")
def full_volume(valkey, open_webui, admin, back_in_service, websocket_check):
    back_in_service()
    before = state(open_webui)
    assert admin("SET", "faults:before-full", "1") == "OK", "writes fail before the volume is full"
    # Never fill a volume that is not the small one: that would be the test host's disk.
    _exit_code, df = valkey.exec_run(["df", "-k", "--output=size", "/data"])
    size_kb = int(df.decode().split()[-1])
    assert size_kb <= 64 * 1024, f"/data is {size_kb} kB, not the size-limited volume: not filling it"
    # Fill the volume from inside the container, as Valkey's own user; dd stops at "No space left".
    code, out = valkey.exec_run(["dd", "if=/dev/zero", f"of={FILL}", "bs=64k"], user="valkey")
    assert code != 0 and b"No space left" in out, out
    filled = time.monotonic()
    # Valkey notices when it next writes its append-only file: a write or two go through first.

    def misconf() -> str | None:
        reply = admin("SET", "faults:while-full", "x" * 4096)
        return reply if "MISCONF" in reply else None

    refused, took = wait_for(misconf, 30, interval=0.5)
    full_check = websocket_check(wait_timeout=5)
    valkey.exec_run(["rm", "-f", FILL], user="valkey")
    freed = time.monotonic()
    accepted, resumed = wait_for(lambda: admin("SET", "faults:after-free", "1") == "OK", 60, interval=0.2)
    _passed, back = wait_for(lambda: state(valkey)["health"] == "healthy", 60, interval=0.5)
    check = websocket_check(wait_timeout=60)
    measured(f"case 4: writes refused {took:.1f} s after the volume filled ({refused!r}); accepted again "
             f"{resumed:.1f} s after space was freed, Valkey healthy {back:.1f} s after that, websocket_check "
             f"{check['checks']['valkey_side']['status']} {time.monotonic() - freed:.1f} s after the freeing "
             f"({time.monotonic() - filled:.1f} s since the fill)")
    return {"refused": refused or "", "full_check": full_check, "accepted": accepted, "check": check,
            "before": before, "after": state(open_webui)}


def test_the_volume_has_the_driver_options_given(engine, valkey):
    assert engine.volumes.get(VOLUME).attrs["Options"] == OPTIONS
    mounts = {m["Destination"]: m for m in valkey.attrs["Mounts"]}
    assert mounts["/data"]["Name"] == VOLUME


def test_writes_fail_with_misconf_when_the_volume_is_full(full_volume):
    assert "MISCONF" in full_volume["refused"], full_volume["refused"]


def test_websocket_check_names_the_cause_and_the_fix(full_volume):
    causes = [c for check in full_volume["full_check"]["checks"].values() for c in check.get("causes", [])]
    misconf = [c for c in causes if c["id"] == "misconf"]
    assert misconf, causes
    assert "free space" in misconf[0]["fix"], misconf[0]


def test_writes_resume_after_space_is_freed_without_restarting_open_webui(full_volume):
    assert full_volume["accepted"], "writes still refused after the space was freed"
    assert full_volume["after"]["started_at"] == full_volume["before"]["started_at"], "Open WebUI was restarted"
    checks = full_volume["check"]["checks"]
    for name in ("ping", "valkey_side", "websocket"):
        assert checks[name]["status"] == "ok", checks[name]
