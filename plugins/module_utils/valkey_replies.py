# Copyright (c) owui.realtime contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Reading Valkey's replies as valkey-cli --raw prints them (CLIENT LIST, PUBSUB NUMSUB, INFO
keyspace), and escaping a key prefix for SCAN MATCH."""

from __future__ import annotations

import re


def parse_client_list(text: str) -> list[dict[str, str]]:
    """Parse CLIENT LIST output: one client a line, space-separated key=value fields."""
    clients = []
    for line in text.splitlines():
        line = line.strip()
        if not line or "=" not in line:
            continue
        fields: dict[str, str] = {}
        for token in line.split(" "):
            key, sep, value = token.partition("=")
            if sep:
                fields[key] = value
        if fields:
            clients.append(fields)
    return clients


def client_ip(client: dict[str, str]) -> str:
    """The peer IP of a CLIENT LIST entry (addr=ip:port, IPv6 as [ip]:port or ip:port)."""
    addr = client.get("addr", "")
    host = addr.rsplit(":", 1)[0] if ":" in addr else addr
    return host.strip("[]")


def is_subscriber(client: dict[str, str]) -> bool:
    """Whether a CLIENT LIST entry is a pub/sub connection (flag P, or sub= above zero)."""
    return "P" in client.get("flags", "") or client.get("sub", "0") not in ("0", "")


def parse_numsub(text: str) -> dict[str, int]:
    """Parse PUBSUB NUMSUB as printed by valkey-cli --raw: channel and count on alternate lines."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    result: dict[str, int] = {}
    for channel, count in zip(lines[0::2], lines[1::2], strict=False):
        result[channel] = int(count)
    return result


def parse_keyspace(text: str) -> dict[int, int]:
    """Parse INFO keyspace into {db: number of keys}."""
    result: dict[int, int] = {}
    for line in text.splitlines():
        match = re.match(r"^db(\d+):keys=(\d+)", line.strip())
        if match:
            result[int(match.group(1))] = int(match.group(2))
    return result


def glob_escape(text: str) -> str:
    """Escape the glob characters SCAN MATCH interprets, so a prefix matches literally."""
    return re.sub(r"([\\*?\[\]])", r"\\\1", text)
