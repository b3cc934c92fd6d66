"""Helpers the faults scenario's tests share: waiting for a state to come back and printing what
was measured. Times are measured and printed (``[measured] ...`` lines; pytest runs with -s), never
asserted: the assertions are about what comes back and what is lost."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any


def measured(text: str) -> None:
    print(f"\n[measured] {text}", flush=True)


def wait_for(what: Callable[[], Any], timeout: float, interval: float = 0.2) -> tuple[Any, float]:
    """Call ``what`` until it returns something true or ``timeout`` runs out (exceptions count as
    not yet); return the last value and the seconds it took."""
    start = time.monotonic()
    value: Any = None
    while True:
        try:
            value = what()
        except Exception:  # the engine or Valkey going away for a while is what the faults do
            value = None
        elapsed = time.monotonic() - start
        if value or elapsed >= timeout:
            return value, elapsed
        time.sleep(interval)


def state(container) -> dict[str, Any]:
    container.reload()
    current = container.attrs["State"]
    return {
        "id": container.id,
        "status": current["Status"],
        "health": (current.get("Health") or {}).get("Status"),
        "restarts": container.attrs["RestartCount"],
        "started_at": current["StartedAt"],
        "pid": current["Pid"],
    }
