# Copyright (c) owui.realtime contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Docker's timestamps (StartedAt, log line prefixes) and the logs API's `since` parameter."""

from __future__ import annotations

import calendar
import re
import time

_DOCKER_TIME = re.compile(
    r"^(?P<base>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(?P<frac>\d{1,9}))?(?P<tz>Z|[+-]\d{2}:\d{2})$"
)


def parse_docker_time(value: str | None) -> int | None:
    """RFC 3339 with up to nanoseconds (Docker's StartedAt, log timestamps) -> ns since the epoch."""
    if not value:
        return None
    match = _DOCKER_TIME.match(value.strip())
    if not match:
        return None
    seconds = calendar.timegm(time.strptime(match.group("base"), "%Y-%m-%dT%H:%M:%S"))
    tz = match.group("tz")
    if tz != "Z":
        sign = 1 if tz[0] == "+" else -1
        seconds -= sign * (int(tz[1:3]) * 3600 + int(tz[4:6]) * 60)
    frac = (match.group("frac") or "").ljust(9, "0")
    return seconds * 1_000_000_000 + int(frac or 0)


def docker_since(started_at: str | None) -> str | None:
    """The `since` parameter of the logs API (seconds.nanoseconds) for a StartedAt value."""
    ns = parse_docker_time(started_at)
    if ns is None:
        return None
    return f"{ns // 1_000_000_000}.{ns % 1_000_000_000:09d}"
