# Copyright (c) owui.realtime contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Parsing and decisions for owui.realtime.websocket_check.

Everything here is a plain function over plain data (text, lists, dicts), so the unit tests
call it without Ansible, Docker or Valkey. The module and the probes feed it what they saw.
"""

from __future__ import annotations

import calendar
import json
import re
import time
from ipaddress import ip_address
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

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

MASK = "********"
CHECK_NAMES = ("ping", "open_webui", "websocket", "valkey_side", "log_line")
REQUIRE_CHOICES = ("ping", "valkey_side", "websocket", "log_line")

# ---------------------------------------------------------------------------------------------
# Named causes
# ---------------------------------------------------------------------------------------------



def _cause_text(message: str, fix: str, transient: bool) -> tuple[str, str, bool]:
    return message, fix, transient


# id -> (message template, fix template, transient). A transient cause may clear on its own
# while Open WebUI or Valkey is still starting, so the module keeps polling; any other cause is
# a configuration fact that waiting does not change.
CAUSES: dict[str, tuple[str, str, bool]] = {
    "valkey_container_missing": _cause_text(
        "Valkey container '{container}' does not exist",
        "Deploy Valkey, or set valkey_container to the container that runs valkey-server.",
        False,
    ),
    "valkey_container_not_running": _cause_text(
        "Valkey container '{container}' is {status} (exit code {exit_code})",
        "Start it (docker start {container}) and read `docker logs {container}` for why it stopped.",
        False,
    ),
    "no_cli": _cause_text(
        "Neither valkey-cli nor redis-cli can be run in container '{container}': {error}",
        "Use an image that ships valkey-cli, or give valkey_url so the check connects with redis-py.",
        False,
    ),
    "protected_mode": _cause_text(
        "Valkey refused the client in protected mode (DENIED): {error}",
        "Protected mode turns away non-loopback clients while no password is set: give Valkey a "
        "password (requirepass or an ACL user) and put it in WEBSOCKET_REDIS_URL; only on a "
        "private network, --protected-mode no is the alternative.",
        False,
    ),
    "noauth": _cause_text(
        "Valkey wants a password and none was sent (NOAUTH): {error}",
        "Pass valkey_password (and valkey_username for an ACL user) to the check, and put the same "
        "credentials in Open WebUI's WEBSOCKET_REDIS_URL (redis://user:password@host:6379/db).",
        False,
    ),
    "wrongpass": _cause_text(
        "Valkey rejected the user name or password (WRONGPASS): {error}",
        "Use the password Valkey was started with (requirepass or the ACL user's), both for the "
        "check and in WEBSOCKET_REDIS_URL, percent-encoding characters such as @ : / in the URL.",
        False,
    ),
    "auth_not_configured": _cause_text(
        "A password was sent but Valkey has none configured for that user: {error}",
        "Either configure the password on Valkey (requirepass or ACL SETUSER), or drop it from the "
        "check and from WEBSOCKET_REDIS_URL.",
        False,
    ),
    "noperm": _cause_text(
        "The Valkey user lacks a permission (NOPERM): {error}",
        "Widen the ACL user: Open WebUI needs the keys ~{key_prefix}:*, the channels &socketio and "
        "&socketio#* (room channels) and +@read +@write +@pubsub +@connection; this check also "
        "needs +client|list, +info and +scan.",
        False,
    ),
    "misconf": _cause_text(
        "Valkey refuses writes because its last RDB save failed (MISCONF): {error}",
        "Read the Valkey container's log for the save error, make its /data writable by the "
        "valkey user and give it free space; Valkey accepts writes again after a save succeeds.",
        False,
    ),
    "loading": _cause_text(
        "Valkey is still loading its dataset (LOADING): {error}",
        "Wait until it has loaded; a large dump file takes a while.",
        True,
    ),
    "readonly": _cause_text(
        "The Valkey instance is a read-only replica (READONLY): {error}",
        "Point Open WebUI and the check at the primary.",
        False,
    ),
    "max_clients": _cause_text(
        "Valkey has reached maxclients: {error}",
        "Raise maxclients or find the client that leaks connections (CLIENT LIST).",
        False,
    ),
    "tls_mismatch": _cause_text(
        "The check and Valkey disagree about TLS: {seen} ({target}): {error}",
        "{fix}",
        False,
    ),
    "tls_certificate": _cause_text(
        "Valkey's TLS certificate was not accepted ({target}): {error}",
        "Give valkey_tls_ca_cert the CA certificate that signed Valkey's certificate (the file "
        "valkey.conf names in tls-ca-cert-file): with valkey_container a path inside that container, "
        "for example /etc/valkey/tls/ca.crt; with valkey_url a file on the host that runs the "
        "module, or ssl_ca_certs=... in valkey_url. Without one the system trust store is used, "
        "which does not know a private CA. 'IP address mismatch' or 'Hostname mismatch' means the "
        "certificate does not name the host in valkey_url: connect by a name in its "
        "subjectAltName, or leave valkey_url unset so the check runs valkey-cli in the container.",
        False,
    ),
    "tls_ca_unreadable": _cause_text(
        "The CA certificate for TLS cannot be used ({target}): {error}",
        "valkey_tls_ca_cert must name a PEM file with the CA certificate: with valkey_container a "
        "path inside that container (for example /etc/valkey/tls/ca.crt), with valkey_url a file "
        "on the host that runs the module.",
        False,
    ),
    "name_resolution": _cause_text(
        "The Valkey host name does not resolve: {error}",
        "Open WebUI and Valkey must share a user-defined Docker network, and WEBSOCKET_REDIS_URL must "
        "name the Valkey container or its network alias; from the Docker host, such names do not "
        "resolve, so leave valkey_url unset (the check then runs valkey-cli inside the container) "
        "or use a published port on 127.0.0.1.",
        False,
    ),
    "connection_refused": _cause_text(
        "Nothing accepts the connection ({target}): {error}",
        "Is Valkey running and listening on that port (valkey-server --port, published ports)?",
        True,
    ),
    "valkey_timeout": _cause_text(
        "Talking to Valkey timed out ({target}): {error}",
        "Check that the host and port are right and no firewall drops the packets.",
        True,
    ),
    "valkey_error": _cause_text(
        "Valkey answered with an error ({target}): {error}",
        "Read the error; it is Valkey's own words.",
        False,
    ),
    "container_missing": _cause_text(
        "Open WebUI container '{container}' does not exist",
        "Deploy Open WebUI, or list the right names in open_webui_containers.",
        False,
    ),
    "container_not_running": _cause_text(
        "Open WebUI container '{container}' is {status} (exit code {exit_code})",
        "Start it (docker start {container}) and read `docker logs {container}` for why it stopped.",
        False,
    ),
    "manager_not_redis": _cause_text(
        "Open WebUI is not using Valkey: container '{container}' has WEBSOCKET_MANAGER={value}, so "
        "it keeps websocket state in process memory (the in-memory fallback)",
        "Set WEBSOCKET_MANAGER=redis (exactly, lower case) and WEBSOCKET_REDIS_URL in the container's "
        "environment and recreate the container.",
        False,
    ),
    "redis_url_missing": _cause_text(
        "Container '{container}' has WEBSOCKET_MANAGER=redis but an empty WEBSOCKET_REDIS_URL (and "
        "no REDIS_URL to fall back on), so Open WebUI has no Valkey to talk to",
        "Set WEBSOCKET_REDIS_URL=redis://<valkey container name or alias>:6379/<db>.",
        False,
    ),
    "redis_url_invalid": _cause_text(
        "Container '{container}' has a WEBSOCKET_REDIS_URL the check cannot read: {url} ({error})",
        "Use the form redis://[user:password@]host:6379/db (rediss:// for TLS).",
        False,
    ),
    "loopback_url": _cause_text(
        "WEBSOCKET_REDIS_URL {url} of container '{container}' names {host}, which inside the "
        "container is the container itself, not Valkey",
        "Use the Valkey container's name or network alias (for example redis://redis-valkey:6379/1) "
        "on a user-defined network that both containers share.",
        False,
    ),
    "websocket_disabled": _cause_text(
        "Container '{container}' has ENABLE_WEBSOCKET_SUPPORT={value}: Open WebUI then serves "
        "Socket.IO over HTTP long-polling only",
        "Set ENABLE_WEBSOCKET_SUPPORT=true and recreate the container; a reverse proxy in front "
        "must pass the Upgrade and Connection headers on /ws/socket.io.",
        False,
    ),
    "db_mismatch": _cause_text(
        "The check reads db {db}, but container '{container}' uses db {url_db} in "
        "WEBSOCKET_REDIS_URL: the check pointed at another db than Open WebUI uses",
        "Set valkey_db={url_db}, or fix WEBSOCKET_REDIS_URL if Open WebUI should use db {db}.",
        False,
    ),
    "prefix_mismatch": _cause_text(
        "The check looks for keys under '{key_prefix}:', but container '{container}' has "
        "REDIS_KEY_PREFIX={value}",
        "Set key_prefix={value}, or drop REDIS_KEY_PREFIX from the container.",
        False,
    ),
    "in_memory_fallback": _cause_text(
        "Open WebUI container '{container}' fell back to in-memory websocket state since its start "
        "at {started_at}: {line}",
        "Fix what the line names (usually Valkey unreachable or wrong credentials when Open WebUI "
        "started), then restart Open WebUI: it never switches back to Valkey by itself.",
        False,
    ),
    "handshake_failed": _cause_text(
        "The Socket.IO handshake over websocket to {url} failed: {error}",
        "Open WebUI must answer on /ws/socket.io with ENABLE_WEBSOCKET_SUPPORT=true; a reverse proxy "
        "must pass the Upgrade and Connection headers.",
        True,
    ),
    "no_websocket_url": _cause_text(
        "No URL to open a websocket to: open_webui_url is not given and no Open WebUI container "
        "publishes port {port}",
        "Give open_webui_url, the URL browsers use (for example http://127.0.0.1:3000).",
        False,
    ),
    "not_subscribed": _cause_text(
        "Valkey counts {subscribers} subscribers on the Socket.IO channel 'socketio', fewer than the "
        "{expected} Open WebUI containers checked",
        "{fix}",
        True,
    ),
    "container_not_subscribed": _cause_text(
        "Open WebUI container '{container}' is connected to Valkey but holds no pub/sub subscription",
        "{fix}",
        True,
    ),
    "no_client_connection": _cause_text(
        "Valkey has no client connection from Open WebUI container '{container}' ({addresses})",
        "Open WebUI is not connected to this Valkey: check WEBSOCKET_MANAGER, WEBSOCKET_REDIS_URL "
        "and that both containers share a network.",
        True,
    ),
    "no_keys": _cause_text(
        "No keys under '{key_prefix}:' in db {db}",
        "Open WebUI writes its websocket state under REDIS_KEY_PREFIX in the db of "
        "WEBSOCKET_REDIS_URL; none there means it does not use this Valkey db.",
        True,
    ),
    "other_db": _cause_text(
        "No keys under '{key_prefix}:' in db {db}, but {count} in db {other_db}: the check pointed "
        "at another db than Open WebUI uses",
        "Set valkey_db={other_db} if that is the db in WEBSOCKET_REDIS_URL, or fix the URL.",
        False,
    ),
    "log_line_missing": _cause_text(
        "'{line}' was not printed by '{container}' since its start at {started_at}",
        "Open WebUI 0.12.4 does not print it even at GLOBAL_LOG_LEVEL=DEBUG; rely on the Valkey-side "
        "checks (require: [ping, valkey_side, websocket]).",
        False,
    ),
    "valkey_errors_in_log": _cause_text(
        "Open WebUI container '{container}' logged Valkey errors since its start: {line}",
        "{fix}",
        False,
    ),
}


def cause(cause_id: str, check: str, **values: Any) -> dict[str, Any]:
    """Build a named cause: what was seen, what to do, and whether waiting may clear it."""
    message, fix, transient = CAUSES[cause_id]
    return {
        "id": cause_id,
        "check": check,
        "message": message.format(**values),
        "fix": fix.format(**values),
        "transient": transient,
    }


# ---------------------------------------------------------------------------------------------
# Secrets
# ---------------------------------------------------------------------------------------------

_URL_PASSWORD = re.compile(r"(?P<head>\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s:@/]*:)(?P<pw>[^\s@/]+)(?P<at>@)")


def mask_url(url: str | None) -> str | None:
    """Replace the password of a URL by asterisks, keeping everything else readable."""
    if url is None:
        return None
    return _URL_PASSWORD.sub(lambda m: m.group("head") + MASK + m.group("at"), url)


def scrub(text: str, secrets: list[str] | tuple[str, ...] = ()) -> str:
    """Mask URL passwords and every known secret in free text (errors, log lines)."""
    text = mask_url(text) or ""
    for secret in secrets:
        if secret:
            text = text.replace(secret, MASK)
    return text


# ---------------------------------------------------------------------------------------------
# Open WebUI's configuration, as seen in `docker inspect`
# ---------------------------------------------------------------------------------------------

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


def env_to_dict(env: list[str] | None) -> dict[str, str]:
    """Turn docker inspect's Config.Env (["NAME=value", ...]) into a dict."""
    result: dict[str, str] = {}
    for item in env or []:
        name, sep, value = item.partition("=")
        if sep:
            result[name] = value
    return result


def open_webui_settings(env: dict[str, str]) -> dict[str, Any]:
    """The websocket settings Open WebUI derives from its environment, read the way its env.py
    reads them (0.12): WEBSOCKET_MANAGER must be exactly "redis"; ENABLE_WEBSOCKET_SUPPORT is on
    when unset or a case-insensitive "true"; WEBSOCKET_REDIS_URL, when unset, is REDIS_URL."""
    manager = env.get("WEBSOCKET_MANAGER", "")
    if "WEBSOCKET_REDIS_URL" in env:
        url, source = env["WEBSOCKET_REDIS_URL"], "WEBSOCKET_REDIS_URL"
    else:
        url, source = env.get("REDIS_URL", ""), "REDIS_URL" if env.get("REDIS_URL") else None
    return {
        "websocket_manager": manager,
        "enable_websocket_support": env.get("ENABLE_WEBSOCKET_SUPPORT", "True").lower() == "true",
        "enable_websocket_support_raw": env.get("ENABLE_WEBSOCKET_SUPPORT"),
        "redis_url": url,
        "redis_url_source": source if url else None,
        "key_prefix": env.get("REDIS_KEY_PREFIX") or "open-webui",
        "key_prefix_set": "REDIS_KEY_PREFIX" in env,
        "sentinel_hosts": env.get("WEBSOCKET_SENTINEL_HOSTS", ""),
    }


def config_causes(
    container: str, settings: dict[str, Any], valkey_db: int, key_prefix: str, check: str = "open_webui"
) -> list[dict[str, Any]]:
    """Name what, in one Open WebUI container's environment, keeps websockets off Valkey."""
    causes: list[dict[str, Any]] = []
    manager = settings["websocket_manager"]
    if manager != "redis":
        causes.append(cause("manager_not_redis", check, container=container, value=repr(manager) if manager else "'' (unset)"))
    if not settings["enable_websocket_support"]:
        causes.append(cause("websocket_disabled", check, container=container, value=repr(settings["enable_websocket_support_raw"])))
    if manager == "redis":
        url = settings["redis_url"]
        if not url:
            causes.append(cause("redis_url_missing", check, container=container))
        else:
            try:
                parsed = parse_redis_url(url)
            except ValueError as exc:
                causes.append(cause("redis_url_invalid", check, container=container, url=mask_url(url), error=str(exc)))
            else:
                if not settings["sentinel_hosts"] and is_loopback(parsed["host"]):
                    causes.append(cause("loopback_url", check, container=container, url=mask_url(url), host=parsed["host"]))
                if parsed["db"] != valkey_db:
                    causes.append(cause("db_mismatch", check, container=container, db=valkey_db, url_db=parsed["db"]))
    if settings["key_prefix"] != key_prefix:
        causes.append(cause("prefix_mismatch", check, container=container, key_prefix=key_prefix, value=repr(settings["key_prefix"])))
    return causes


def container_addresses(inspect: dict[str, Any]) -> list[str]:
    """The IP addresses a container has on its networks (what Valkey sees as client addr)."""
    addresses: list[str] = []
    networks = (inspect.get("NetworkSettings") or {}).get("Networks") or {}
    for network in networks.values():
        for key in ("IPAddress", "GlobalIPv6Address"):
            value = (network or {}).get(key)
            if value and value not in addresses:
                addresses.append(value)
    return addresses


def published_url(inspect: dict[str, Any], container_port: int = 8080) -> str | None:
    """http:// URL on the Docker host for a container's published port, if it has one."""
    ports = (inspect.get("NetworkSettings") or {}).get("Ports") or {}
    for binding in ports.get(f"{container_port}/tcp") or []:
        host_ip = binding.get("HostIp") or "0.0.0.0"
        host_port = binding.get("HostPort")
        if not host_port:
            continue
        if host_ip in ("0.0.0.0", "::", ""):
            host_ip = "127.0.0.1"
        if ":" in host_ip:
            host_ip = f"[{host_ip}]"
        return f"http://{host_ip}:{host_port}"
    return None


# ---------------------------------------------------------------------------------------------
# Valkey replies
# ---------------------------------------------------------------------------------------------


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


# What the probes print when TLS is half set up. Plaintext against a TLS-only Valkey: the server
# drops the connection at the first command (valkey-cli "I/O error ... Connection reset by peer",
# redis-py "Error while reading from ... Connection reset by peer", or "Connection closed by
# server" through a port Docker publishes). The same words say nothing about TLS when the client
# spoke TLS, so those rules hold only for a plaintext client. TLS against a plaintext Valkey: the
# server waits for a command line and never answers the TLS hello; the probes (valkey_probe) turn
# that hang into their "... got no answer ..." texts.
TLS_REFUSED_PLAINTEXT = {
    "seen": "Valkey dropped the plaintext connection at once, as a TLS-only Valkey does",
    "fix": "Valkey serves TLS only there (port 0, tls-port): set valkey_tls: true and "
           "valkey_tls_ca_cert, or use rediss:// in valkey_url. Open WebUI needs "
           "rediss://...?ssl_ca_certs=<CA file in its container> in WEBSOCKET_REDIS_URL as well.",
}
TLS_NOT_SERVED = {
    "seen": "the TLS handshake got no answer, as from a Valkey that speaks plaintext on that port",
    "fix": "Set valkey_tls: false (redis:// in valkey_url), or point the check at Valkey's tls-port "
           "(valkey_port); if Valkey should serve TLS, set tls-port, tls-cert-file and tls-key-file "
           "in valkey.conf, and give Open WebUI a rediss:// URL.",
}

# Valkey's error codes are upper-case words at the start of a reply; the phrases are what
# valkey-cli, redis-py, OpenSSL and the resolver say. Order matters: valkey-cli prints "AUTH
# failed: WRONGPASS ..." and then the command's own "NOAUTH ...", and the first is the cause.
# The last field says for which client the rule holds: None any, False plaintext, True TLS.
_ERROR_RULES: tuple[tuple[re.Pattern[str], str, bool | None], ...] = tuple(
    (re.compile(pattern, flags), cause_id, tls)
    for pattern, flags, cause_id, tls in (
        (r"\bDENIED\b|protected mode", 0, "protected_mode", None),
        (r"\bWRONGPASS\b|invalid username-password pair|invalid password", re.IGNORECASE, "wrongpass", None),
        (r"called without any password configured", re.IGNORECASE, "auth_not_configured", None),
        (r"\bNOAUTH\b|authentication required", re.IGNORECASE, "noauth", None),
        (r"\bNOPERM\b|no permissions|Redis denied (subscribing|publishing)", re.IGNORECASE, "noperm", None),
        (r"\bMISCONF\b", 0, "misconf", None),
        (r"\bLOADING\b", 0, "loading", None),
        (r"\bREADONLY\b", 0, "readonly", None),
        (r"max number of clients", re.IGNORECASE, "max_clients", None),
        (r"Invalid CA Certificate File|NO_CERTIFICATE_OR_CRL_FOUND|CA certificate file .* cannot be read",
         re.IGNORECASE, "tls_ca_unreadable", None),
        (r"certificate verify failed", re.IGNORECASE, "tls_certificate", None),
        (r"\bI/O error\b|Connection reset by peer|Connection closed by server", re.IGNORECASE, "tls_mismatch", False),
        (r"got no answer within \d+s over TLS|TLS handshake got no answer", re.IGNORECASE, "tls_mismatch", True),
        (
            (r"name or service not known|temporary failure in name resolution|nodename nor servname"
             r"|no address associated with hostname|could not resolve"),
            re.IGNORECASE,
            "name_resolution",
            None,
        ),
        (r"connection refused", re.IGNORECASE, "connection_refused", None),
        (r"timed out|timeout", re.IGNORECASE, "valkey_timeout", None),
    )
)


def classify_valkey_error(text: str, check: str, target: str, key_prefix: str = "open-webui",
                          tls: bool | None = None) -> dict[str, Any]:
    """Name the likely cause of an error seen when talking to Valkey. `tls` says whether the
    client used TLS (None: not known, as for a line in Open WebUI's log)."""
    values = {"error": " ".join(text.split()), "target": target, "key_prefix": key_prefix}
    for pattern, cause_id, when in _ERROR_RULES:
        if when is not None and when is not tls:
            continue
        if pattern.search(text):
            if cause_id == "tls_mismatch":
                values.update(TLS_NOT_SERVED if tls else TLS_REFUSED_PLAINTEXT)
            return cause(cause_id, check, **values)
    return cause("valkey_error", check, **values)


# ---------------------------------------------------------------------------------------------
# Logs
# ---------------------------------------------------------------------------------------------

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
            message = None
            for key in ("message", "msg", "text", "event"):
                if isinstance(record.get(key), str):
                    message = record[key]
                    break
            nested = record.get("record")
            if message is None and isinstance(nested, dict) and isinstance(nested.get("message"), str):
                message = nested["message"]
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


# ---------------------------------------------------------------------------------------------
# Verdict
# ---------------------------------------------------------------------------------------------


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
        for name in ("ping", "valkey_side", "websocket", "log_line")
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
