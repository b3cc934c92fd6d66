# Copyright (c) owui.realtime contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Redis and Valkey connection URLs: reading them, and the rule for hosts that name the client
itself (loopback), which the valkey_url filter, the loopback_host test and websocket_check share."""

from __future__ import annotations

from ipaddress import ip_address
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"}


def is_loopback(host: str) -> bool:
    """Tell whether a host names the machine itself (inside a container: the container)."""
    name = host.strip("[]").lower()
    if name in LOOPBACK_NAMES or name.endswith(".localhost"):
        return True
    try:
        address = ip_address(name)
    except ValueError:
        return False
    return address.is_loopback or address.is_unspecified


def parse_redis_url(url: str) -> dict[str, Any]:
    """Split a redis:// or rediss:// URL into host, port, username, password, db, tls and
    ca_certs (the ssl_ca_certs query parameter redis-py reads: a CA file on the client's side).

    Raises ValueError for what redis-py would not accept either.
    """
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("redis", "rediss"):
        raise ValueError(f"scheme '{parts.scheme}' is not redis:// or rediss://")
    query = parse_qs(parts.query)
    db = 0
    path = parts.path.strip("/")
    if path:
        if not path.isdigit():
            raise ValueError(f"path '/{path}' is not a db number")
        db = int(path)
    if query.get("db"):
        db = int(query["db"][0])
    try:
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"port: {exc}") from None
    host = parts.hostname or ""
    if not host:
        raise ValueError("no host")
    return {
        "scheme": scheme,
        "host": host,
        "port": port or 6379,
        "username": unquote(parts.username) if parts.username else None,
        "password": unquote(parts.password) if parts.password is not None else None,
        "db": db,
        "tls": scheme == "rediss",
        "ca_certs": query["ssl_ca_certs"][0] if query.get("ssl_ca_certs") else None,
    }
