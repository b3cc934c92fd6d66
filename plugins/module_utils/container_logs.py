# Copyright (c) owui.realtime contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read a container's log through the Docker Engine API (community.docker's client)."""

from __future__ import annotations

import struct
from datetime import UTC, datetime

_HEADER = 8


def split_multiplexed(buf: bytes) -> list[bytes]:
    """Split the engine's stdout/stderr frames (8-byte header each) into payloads."""
    out = []
    pos = 0
    while len(buf) - pos >= _HEADER:
        _stream, length = struct.unpack_from(">BxxxL", buf, pos)
        out.append(buf[pos + _HEADER:pos + _HEADER + length])
        pos += _HEADER + length
    return out


def started_at_epoch(started_at: str) -> int:
    """Turn the engine's State.StartedAt (RFC 3339, nanoseconds) into whole epoch seconds."""
    if not started_at or started_at.startswith("0001-"):
        return 0
    stamp = started_at.rstrip("Z").split(".")[0]
    return int(datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC).timestamp())


def read_log(client, container: dict, tail: int | None = None, since_start: bool = False) -> list[str]:
    """Return the log lines of an inspected container, oldest first.

    With since_start, only lines written since the container's current start are returned,
    so an earlier run's messages cannot be mistaken for the present one's.
    """
    params = {"stdout": 1, "stderr": 1, "timestamps": 0, "tail": str(tail) if tail else "all"}
    if since_start:
        params["since"] = started_at_epoch(container.get("State", {}).get("StartedAt", ""))
    raw = client.get_binary("/containers/{0}/logs", container["Id"], params=params)
    if not container.get("Config", {}).get("Tty"):
        raw = b"".join(split_multiplexed(raw))
    return raw.decode("utf-8", errors="replace").splitlines()
