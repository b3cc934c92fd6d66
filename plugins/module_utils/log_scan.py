# Copyright (c) owui.realtime contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Scanning an Open WebUI container's log for the guide's proof line, the in-memory fallback
and Valkey errors, in the stdlib, loguru and JSON formats Open WebUI can print."""

from __future__ import annotations

import json
import re
from typing import Any

from ansible_collections.owui.realtime.plugins.module_utils.docker_time import parse_docker_time
from ansible_collections.owui.realtime.plugins.module_utils.masking import scrub

LOG_LINE = "Using Redis to manage websockets."
# What older Open WebUI releases printed when its Redis-backed pools could not be set up and it kept
# them in process memory instead. Open WebUI 0.12 has no such message: without
# WEBSOCKET_MANAGER=redis it silently keeps everything in memory, so the environment is the
# evidence for that fallback (cause manager_not_redis).
FALLBACK_MARKERS = ("Falling back to local manager",)
# The Socket.IO Redis managers (python-socketio's and Open WebUI's room-channel one), when their
# pub/sub listener or a publish fails.
SOCKETIO_REDIS_MARKERS = (
    "Cannot receive from redis",
    "Cannot publish to redis",
    "Redis denied subscribing",
    "Redis denied publishing",
)


_LOGURU = re.compile(r"^\S+ \S+ \| *(?P<level>[A-Z]+) *\| *(?P<where>\S+) - (?P<message>.*)$")
_STDLIB = re.compile(r"^(?P<level>DEBUG|INFO|WARNING|ERROR|CRITICAL):(?P<where>[\w.]+):(?P<message>.*)$")


def log_message(content: str) -> dict[str, str | None]:
    """Pull level and message out of one log line in stdlib, loguru or JSON format."""
    stripped = content.strip()
    if stripped.startswith("{"):
        try:
            record = json.loads(stripped)
        except ValueError:
            record = None
        if isinstance(record, dict):
            # loguru's serialize=True nests the record under "record"; its "text" is the formatted line.
            nested = record.get("record")
            if isinstance(nested, dict) and isinstance(nested.get("message"), str):
                record = {**record, **nested}
            message = None
            for key in ("message", "msg", "text", "event"):
                if isinstance(record.get(key), str):
                    message = record[key]
                    break
            level = record.get("level") or record.get("levelname") or record.get("severity")
            if isinstance(level, dict):
                level = level.get("name")
            if message is not None:
                return {"format": "json", "level": str(level) if level else None, "message": message}
    for fmt, pattern in (("loguru", _LOGURU), ("stdlib", _STDLIB)):
        match = pattern.match(stripped)
        if match:
            return {"format": fmt, "level": match.group("level"), "message": match.group("message").strip()}
    return {"format": "plain", "level": None, "message": stripped}


def split_timestamp(line: str) -> tuple[int | None, str]:
    """Split Docker's `timestamps=1` prefix off a log line."""
    head, sep, rest = line.partition(" ")
    if sep:
        ns = parse_docker_time(head)
        if ns is not None:
            return ns, rest
    return None, line


def scan_log(text: str, started_at: str | None, secrets: tuple[str, ...] = ()) -> dict[str, Any]:
    """Look through a container's log for the proof line, the fallback, and Valkey errors.

    Only lines stamped at or after `started_at` count: a line from an earlier start of the same
    container proves nothing about the current one.
    """
    start_ns = parse_docker_time(started_at)
    result: dict[str, Any] = {
        "found": False,
        "line": None,
        "format": None,
        "lines_scanned": 0,
        "older_lines_ignored": 0,
        "fallback": [],
        "valkey_errors": [],
    }
    for raw in text.splitlines():
        if not raw.strip():
            continue
        ns, content = split_timestamp(raw)
        if start_ns is not None and ns is not None and ns < start_ns:
            result["older_lines_ignored"] += 1
            continue
        result["lines_scanned"] += 1
        parsed = log_message(content)
        message = parsed["message"] or ""
        if not result["found"] and (LOG_LINE in message or LOG_LINE in content):
            result.update(found=True, line=scrub(content.strip(), secrets)[:500], format=parsed["format"])
        if any(marker in content for marker in FALLBACK_MARKERS) and len(result["fallback"]) < 5:
            result["fallback"].append(scrub(content.strip(), secrets)[:500])
        elif _mentions_valkey_error(content) and len(result["valkey_errors"]) < 5:
            result["valkey_errors"].append(scrub(content.strip(), secrets)[:500])
    return result


_LOG_ERROR_NEEDLES = (
    "NOAUTH", "WRONGPASS", "NOPERM", "MISCONF", "DENIED Redis", "DENIED Valkey", "protected mode",
    "invalid username-password pair", "Authentication required", "Name or service not known",
    "Temporary failure in name resolution", *SOCKETIO_REDIS_MARKERS,
)


def _mentions_valkey_error(content: str) -> bool:
    if "Error" in content and "connecting to" in content and ("redis" in content.lower() or "6379" in content):
        return True
    return any(needle in content for needle in _LOG_ERROR_NEEDLES)
