# Copyright (c) owui.realtime contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The websocket check's verdict: which checks are required, whether waiting may help, and the
one-line summary."""

from __future__ import annotations

from typing import Any

CHECK_NAMES = ("ping", "open_webui", "websocket", "delivery", "valkey_side", "log_line")
REQUIRE_CHOICES = ("ping", "valkey_side", "websocket", "log_line")


def required_checks(require: list[str]) -> dict[str, bool]:
    """Which checks decide the verdict. The container and environment check (open_webui)
    counts whenever anything about Open WebUI is required."""
    wanted = set(require)
    return {
        "ping": "ping" in wanted,
        "open_webui": bool(wanted & {"valkey_side", "websocket", "log_line"}),
        "websocket": "websocket" in wanted,
        "valkey_side": "valkey_side" in wanted,
        "log_line": "log_line" in wanted,
    }


def check_entry(status: str, required: bool, detail: str, evidence: dict[str, Any] | None = None,
                causes: list[dict[str, Any]] | None = None, duration: float = 0.0) -> dict[str, Any]:
    """One entry of the module's `checks` result."""
    return {
        "status": status,
        "required": required,
        "detail": detail,
        "evidence": evidence or {},
        "causes": causes or [],
        "duration": round(duration, 3),
    }


def failed_required(checks: dict[str, dict[str, Any]]) -> list[str]:
    return [name for name in CHECK_NAMES if name in checks and checks[name]["required"] and checks[name]["status"] == "failed"]


def worth_waiting(checks: dict[str, dict[str, Any]]) -> bool:
    """Polling helps only when every failing required check failed for a transient reason."""
    failing = failed_required(checks)
    if not failing:
        return False
    for name in failing:
        causes = checks[name]["causes"]
        if not causes or not all(item["transient"] for item in causes):
            return False
    return True


def all_causes(checks: dict[str, dict[str, Any]], required_only: bool = False) -> list[dict[str, Any]]:
    """Causes of failing checks, required ones first, without repeating a message."""
    seen = set()
    ordered = []
    for want_required in (True,) if required_only else (True, False):
        for name in CHECK_NAMES:
            entry = checks.get(name)
            if not entry or entry["status"] != "failed" or entry["required"] != want_required:
                continue
            for item in entry["causes"]:
                if item["message"] not in seen:
                    seen.add(item["message"])
                    ordered.append(item)
    return ordered


def summary(checks: dict[str, dict[str, Any]]) -> str:
    """The one-line `msg`."""
    failing = failed_required(checks)
    passed = [
        checks[name]["detail"]
        for name in ("ping", "valkey_side", "websocket", "delivery", "log_line")
        if name in checks and checks[name]["status"] == "ok" and checks[name]["required"]
    ]
    if not failing:
        if not passed:
            return "No check was required"
        proven = all(checks.get(name, {}).get("required") for name in ("valkey_side", "websocket"))
        head = "Open WebUI uses Valkey for websockets: " if proven else "Required checks passed: "
        return head + "; ".join(passed)
    first = [item["message"] for item in all_causes(checks) if item["check"] in failing][:3]
    if not first:
        first = [checks[name]["detail"] for name in failing]
    text = "Open WebUI websockets are not proven to go through Valkey (failed: " + ", ".join(failing) + "): "
    text += "; ".join(first)
    if passed:
        text += " | ok: " + "; ".join(passed)
    return text
