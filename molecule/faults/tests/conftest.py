"""What the faults scenario's tests share: killing valkey-server as the OOM killer would, talking to
Valkey as its admin, waiting until the stack is in service, and this scenario's test host."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

# The tests sit in one directory per Valkey configuration; faultlib.py is beside this file.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from faultlib import state, wait_for

TESTHOST = os.path.join(os.environ.get("MOLECULE_PROJECT_DIRECTORY", "."), "hack", "testhost.sh")


@pytest.fixture(scope="module")
def admin(valkey, secrets):
    """``admin(*command, db=1)``: valkey-cli in the Valkey container as its admin user; returns the
    reply text (errors such as MISCONF are replies too)."""
    def run(*command: str, db: int = 1) -> str:
        _exit_code, out = valkey.exec_run(["valkey-cli", "--no-auth-warning", "-n", str(db), *command],
                                          environment={"REDISCLI_AUTH": secrets["valkey_admin"]})
        return out.decode(errors="replace").strip()
    return run


@pytest.fixture(scope="module")
def subscribers(admin):
    """``subscribers()``: how many clients Valkey counts on Open WebUI's 'socketio' channel."""
    def count() -> int:
        reply = admin("--raw", "PUBSUB", "NUMSUB", "socketio").splitlines()
        return int(reply[1]) if len(reply) == 2 and reply[1].isdigit() else 0
    return count


@pytest.fixture(scope="module")
def sigkill_valkey(valkey):
    """``sigkill_valkey()`` kills valkey-server with SIGKILL, as the kernel's OOM killer does: the
    engine sees the container's process die, not a stop request, so the restart policy applies
    (``docker kill`` would count as a manual stop). The test host has no PID namespace of its own,
    so the container's main process has the same pid on this machine; it is checked to be
    valkey-server before the signal, so nothing else can be hit."""
    def kill() -> float:
        pid = state(valkey)["pid"]
        with open(f"/proc/{pid}/comm", encoding="utf-8") as handle:
            comm = handle.read().strip()
        assert comm == "valkey-server", f"pid {pid} of {valkey.name} is {comm!r}, not valkey-server"
        os.kill(pid, signal.SIGKILL)
        return time.monotonic()
    return kill


@pytest.fixture(scope="module")
def back_in_service(valkey, open_webui, admin, subscribers):
    """``back_in_service(timeout)``: wait until both containers run healthy, Valkey answers PONG and
    Open WebUI is subscribed again; returns the seconds it took (the state is checked by the
    caller)."""
    def wait(timeout: float = 180) -> float:
        def ready() -> bool:
            return (state(valkey)["health"] == "healthy" and state(open_webui)["health"] == "healthy"
                    and admin("PING") == "PONG" and subscribers() >= 1)
        _passed, took = wait_for(ready, timeout, interval=0.5)
        return took
    return wait


@pytest.fixture(scope="module")
def testhost(hostvars):
    """``testhost(subcommand, ...)``: hack/testhost.sh for this scenario's test host."""
    def run(subcommand: str, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([TESTHOST, subcommand, hostvars["owui_testhost"], *args],
                              capture_output=True, text=True, timeout=300, check=False)
    return run
