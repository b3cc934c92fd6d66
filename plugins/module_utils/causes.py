# Copyright (c) owui.realtime contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The named causes the websocket check reports: what was seen, what to do about it, and
whether waiting may clear it. Only texts live here; the code that picks a cause lives with
what it reads."""

from __future__ import annotations

from typing import Any

# id -> (message template, fix template, transient). A transient cause may clear on its own
# while Open WebUI or Valkey is still starting, so the module keeps polling; any other cause is
# a configuration fact that waiting does not change.
CAUSES: dict[str, tuple[str, str, bool]] = {
    "valkey_container_missing": (
        "Valkey container '{container}' does not exist",
        "Deploy Valkey, or set valkey_container to the container that runs valkey-server.",
        False,
    ),
    "valkey_container_not_running": (
        "Valkey container '{container}' is {status} (exit code {exit_code})",
        "Start it (docker start {container}) and read `docker logs {container}` for why it stopped.",
        False,
    ),
    "no_cli": (
        "Neither valkey-cli nor redis-cli can be run ({target}): {error}",
        "Use an image that ships valkey-cli, or give valkey_url so the check connects with redis-py.",
        False,
    ),
    "protected_mode": (
        "Valkey refused the client in protected mode (DENIED): {error}",
        "Protected mode turns away non-loopback clients while no password is set: give Valkey a "
        "password (requirepass or an ACL user) and put it in WEBSOCKET_REDIS_URL; only on a "
        "private network, --protected-mode no is the alternative.",
        False,
    ),
    "noauth": (
        "Valkey wants a password and none was sent (NOAUTH): {error}",
        "Pass valkey_password (and valkey_username for an ACL user) to the check, and put the same "
        "credentials in Open WebUI's WEBSOCKET_REDIS_URL (redis://user:password@host:6379/db).",
        False,
    ),
    "wrongpass": (
        "Valkey rejected the user name or password (WRONGPASS): {error}",
        "Use the password Valkey was started with (requirepass or the ACL user's), both for the "
        "check and in WEBSOCKET_REDIS_URL, percent-encoding characters such as @ : / in the URL.",
        False,
    ),
    "auth_not_configured": (
        "A password was sent but Valkey has none configured for that user: {error}",
        "Either configure the password on Valkey (requirepass or ACL SETUSER), or drop it from the "
        "check and from WEBSOCKET_REDIS_URL.",
        False,
    ),
    "noperm": (
        "The Valkey user lacks a permission (NOPERM): {error}",
        "Widen the ACL user: Open WebUI needs the keys ~{key_prefix}:*, the channels &socketio and "
        "&socketio#* (room channels) and +@read +@write +@pubsub +@connection; this check also "
        "needs +client|list, +info and +scan.",
        False,
    ),
    "misconf": (
        "Valkey refuses writes because it cannot write its snapshot or append-only file (MISCONF): {error}",
        "Read the Valkey container's log for the write error, make its /data writable by the valkey user "
        "and give it free space; Valkey accepts writes again by itself once its next append-only write "
        "(retried every second) or snapshot succeeds.",
        False,
    ),
    "loading": (
        "Valkey is still loading its dataset (LOADING): {error}",
        "Wait until it has loaded; a large dump file takes a while.",
        True,
    ),
    "readonly": (
        "The Valkey instance is a read-only replica (READONLY): {error}",
        "Point Open WebUI and the check at the primary.",
        False,
    ),
    "max_clients": (
        "Valkey has reached maxclients: {error}",
        "Raise maxclients or find the client that leaks connections (CLIENT LIST).",
        False,
    ),
    "tls_mismatch": (
        "The check and Valkey disagree about TLS: {seen} ({target}): {error}",
        "{fix}",
        False,
    ),
    "tls_certificate": (
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
    "tls_ca_unreadable": (
        "The CA certificate for TLS cannot be used ({target}): {error}",
        "valkey_tls_ca_cert must name a PEM file with the CA certificate: with valkey_container a "
        "path inside that container (for example /etc/valkey/tls/ca.crt), with valkey_url a file "
        "on the host that runs the module.",
        False,
    ),
    "name_resolution": (
        "The Valkey host name does not resolve: {error}",
        "Open WebUI and Valkey must share a user-defined Docker network, and WEBSOCKET_REDIS_URL must "
        "name the Valkey container or its network alias; from the Docker host, such names do not "
        "resolve, so leave valkey_url unset (the check then runs valkey-cli inside the container) "
        "or use a published port on 127.0.0.1.",
        False,
    ),
    "connection_refused": (
        "Nothing accepts the connection ({target}): {error}",
        "Is Valkey running and listening on that port (valkey-server --port, published ports)?",
        True,
    ),
    "valkey_timeout": (
        "Talking to Valkey timed out ({target}): {error}",
        "Check that the host and port are right and no firewall drops the packets.",
        True,
    ),
    "valkey_error": (
        "Valkey answered with an error ({target}): {error}",
        "Read the error; it is Valkey's own words.",
        False,
    ),
    "container_missing": (
        "Open WebUI container '{container}' does not exist",
        "Deploy Open WebUI, or list the right names in open_webui_containers.",
        False,
    ),
    "container_not_running": (
        "Open WebUI container '{container}' is {status} (exit code {exit_code})",
        "Start it (docker start {container}) and read `docker logs {container}` for why it stopped.",
        False,
    ),
    "manager_not_redis": (
        "Open WebUI is not using Valkey: container '{container}' has WEBSOCKET_MANAGER={value}, so "
        "it keeps websocket state in process memory (the in-memory fallback)",
        "Set WEBSOCKET_MANAGER=redis (exactly, lower case) and WEBSOCKET_REDIS_URL in the container's "
        "environment and recreate the container.",
        False,
    ),
    "redis_url_missing": (
        "Container '{container}' has WEBSOCKET_MANAGER=redis but an empty WEBSOCKET_REDIS_URL (and "
        "no REDIS_URL to fall back on), so Open WebUI has no Valkey to talk to",
        "Set WEBSOCKET_REDIS_URL=redis://<valkey container name or alias>:6379/<db>.",
        False,
    ),
    "redis_url_invalid": (
        "Container '{container}' has a WEBSOCKET_REDIS_URL the check cannot read: {url} ({error})",
        "Use the form redis://[user:password@]host:6379/db (rediss:// for TLS).",
        False,
    ),
    "loopback_url": (
        "WEBSOCKET_REDIS_URL {url} of container '{container}' names {host}, which inside the "
        "container is the container itself, not Valkey",
        "Use the Valkey container's name or network alias (for example redis://redis-valkey:6379/1) "
        "on a user-defined network that both containers share.",
        False,
    ),
    "websocket_disabled": (
        "Container '{container}' has ENABLE_WEBSOCKET_SUPPORT={value}: Open WebUI then serves "
        "Socket.IO over HTTP long-polling only",
        "Set ENABLE_WEBSOCKET_SUPPORT=true and recreate the container; a reverse proxy in front "
        "must pass the Upgrade and Connection headers on /ws/socket.io.",
        False,
    ),
    "db_mismatch": (
        "The check reads db {db}, but container '{container}' uses db {url_db} in "
        "WEBSOCKET_REDIS_URL: the check pointed at another db than Open WebUI uses",
        "Set valkey_db={url_db}, or fix WEBSOCKET_REDIS_URL if Open WebUI should use db {db}.",
        False,
    ),
    "prefix_mismatch": (
        "The check looks for keys under '{key_prefix}:', but container '{container}' has "
        "REDIS_KEY_PREFIX={value}",
        "Set key_prefix={value}, or drop REDIS_KEY_PREFIX from the container.",
        False,
    ),
    "in_memory_fallback": (
        "Open WebUI container '{container}' fell back to in-memory websocket state since its start "
        "at {started_at}: {line}",
        "Fix what the line names (usually Valkey unreachable or wrong credentials when Open WebUI "
        "started), then restart Open WebUI: it never switches back to Valkey by itself.",
        False,
    ),
    "handshake_failed": (
        "The Socket.IO handshake over websocket to {url} failed: {error}",
        "Open WebUI must answer on /ws/socket.io with ENABLE_WEBSOCKET_SUPPORT=true; a reverse proxy "
        "must pass the Upgrade and Connection headers.",
        True,
    ),
    "no_websocket_url": (
        "No URL to open a websocket to: open_webui_url is not given and no Open WebUI container "
        "publishes port {port}",
        "Give open_webui_url, the URL browsers use (for example http://127.0.0.1:3000).",
        False,
    ),
    "not_subscribed": (
        "Valkey counts {subscribers} subscribers on the Socket.IO channel 'socketio', fewer than the "
        "{expected} Open WebUI containers checked",
        "{fix}",
        True,
    ),
    "container_not_subscribed": (
        "Open WebUI container '{container}' is connected to Valkey but holds no pub/sub subscription",
        "{fix}",
        True,
    ),
    "no_client_connection": (
        "Valkey has no client connection from Open WebUI container '{container}' ({addresses})",
        "Open WebUI is not connected to this Valkey: check WEBSOCKET_MANAGER, WEBSOCKET_REDIS_URL "
        "and that both containers share a network.",
        True,
    ),
    "no_keys": (
        "No keys under '{key_prefix}:' in db {db}",
        "Open WebUI writes its websocket state under REDIS_KEY_PREFIX in the db of "
        "WEBSOCKET_REDIS_URL; none there means it does not use this Valkey db.",
        True,
    ),
    "other_db": (
        "No keys under '{key_prefix}:' in db {db}, but {count} in db {other_db}: the check pointed "
        "at another db than Open WebUI uses",
        "Set valkey_db={other_db} if that is the db in WEBSOCKET_REDIS_URL, or fix the URL.",
        False,
    ),
    "other_valkey": (
        "Container '{container}' reaches Valkey at '{host}' (its WEBSOCKET_REDIS_URL {url}), which "
        "resolves there to {addresses}: container '{other}', not the Valkey container '{valkey}' "
        "being checked ({valkey_addresses})",
        "Open WebUI and the check look at two different Valkeys. Put the name or network alias of "
        "'{valkey}' in WEBSOCKET_REDIS_URL and recreate '{container}', or, if '{other}' is the "
        "Valkey meant, point the check at it (valkey_container={other}).",
        False,
    ),
    "redis_host_unresolved": (
        "The host '{host}' of container '{container}''s WEBSOCKET_REDIS_URL {url} does not resolve "
        "inside that container: {error}",
        "Open WebUI cannot reach any Valkey by that name: put '{container}' and the Valkey container "
        "'{valkey}' on one user-defined network and use the Valkey container's name or alias.",
        False,
    ),
    "delivery_unreachable": (
        "No Socket.IO client could connect to replica {replica} at {url}: {error}",
        "Each replica must answer on /ws/socket.io over the websocket transport at the URL the check "
        "uses (a published port, the container's address, or the URL in open_webui_urls - the "
        "replica itself, not a load balancer in front of several).",
        True,
    ),
    "not_delivered": (
        "Replica {replica} did not deliver: the nonce published on Valkey's 'socketio' channel for "
        "its client (sid {sid}) did not arrive within {bound} s",
        "That replica does not take its websocket events from this Valkey: it needs "
        "WEBSOCKET_MANAGER=redis and a WEBSOCKET_REDIS_URL naming this Valkey (host, port, "
        "credentials), and a restart after either changes.",
        True,
    ),
    "workers_not_subscribed": (
        "Valkey counts {subscribers} subscribers on 'socketio', fewer than the {expected} Uvicorn "
        "workers of the replicas checked ({workers})",
        "Every worker of every replica subscribes when it starts serving websockets: a replica still "
        "starting, or one on another Valkey or without WEBSOCKET_MANAGER=redis, is missing. Give "
        "open_webui_workers the UVICORN_WORKERS of the replicas in open_webui_urls.",
        True,
    ),
    "log_line_missing": (
        "'{line}' was not printed by '{container}' since its start at {started_at}",
        "Open WebUI 0.12.4 does not print it even at GLOBAL_LOG_LEVEL=DEBUG; rely on the Valkey-side "
        "checks (require: [ping, valkey_side, websocket]).",
        False,
    ),
    # Errors of the past, such as those of a Valkey outage Open WebUI has since recovered from: they
    # explain a failing Valkey side but do not stop the wait; its other causes decide that.
    "valkey_errors_in_log": (
        "Open WebUI container '{container}' logged Valkey errors since its start: {line}",
        "{fix}",
        True,
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
