# Copyright (c) owui.realtime contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""How the websocket check reaches Valkey: which credentials, TLS or not and with which CA, each
choice made once with where it came from; and the probe that then asks Valkey."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ansible_collections.owui.realtime.plugins.module_utils.causes import cause
from ansible_collections.owui.realtime.plugins.module_utils.check_settings import Settings
from ansible_collections.owui.realtime.plugins.module_utils.masking import mask_url
from ansible_collections.owui.realtime.plugins.module_utils.valkey_probe import ValkeyViaExec


def _tls_choice(settings: Settings, containers: dict[str, Any], url_tls: bool | None) -> tuple[bool, str]:
    """Whether to speak TLS to Valkey, and why: given, else valkey_url's scheme, else the way the
    first Open WebUI container with a readable WEBSOCKET_REDIS_URL speaks to it, else off."""
    if settings.valkey_tls is not None:
        return settings.valkey_tls, "given"
    if url_tls is not None:
        return url_tls, "valkey_url"
    for name, item in containers.items():
        parsed = item.get("parsed_url")
        if parsed:
            return parsed["tls"], f"WEBSOCKET_REDIS_URL of '{name}'"
    return False, "default off"


def valkey_access(settings: Settings, containers: dict[str, Any], add_secret: Callable[[str | None], None]) -> dict[str, Any]:
    """Pick how to reach Valkey: with which credentials, over TLS or not and with which CA; report
    where each choice came from."""
    username, password = settings.valkey_username, settings.valkey_password
    source = "given" if (username or password) else "none"
    url_port = None
    for name, item in containers.items():
        parsed = item.get("parsed_url")
        if not parsed:
            continue
        url_port = url_port or parsed["port"]
        if source == "none" and not settings.valkey_url and (parsed["username"] or parsed["password"]):
            username, password = parsed["username"], parsed["password"]
            source = f"WEBSOCKET_REDIS_URL of '{name}'"
    url = settings.valkey_url_parts
    if url:
        add_secret(url["password"])
        if source == "none" and (url["username"] or url["password"]):
            source = "valkey_url"
    tls, tls_from = _tls_choice(settings, containers, url["tls"] if url else None)
    # A CA file: with valkey_url one on this host, given or the URL's ssl_ca_certs; without, a path
    # in the Valkey container. The containers' ssl_ca_certs is a path in Open WebUI's container, of
    # no use in either.
    ca_cert = (settings.valkey_tls_ca_cert or (url["ca_certs"] if url else None)) if tls else None
    if not tls and settings.valkey_tls_ca_cert:
        tls_from += " (valkey_tls_ca_cert not used)"
    return {"credentials": source, "db": settings.valkey_db, "tls_from": tls_from, "tls": tls, "tls_ca_cert": ca_cert,
            "username": username, "password": password, "port": settings.valkey_port or url_port or 6379}


def open_probe(settings: Settings, access: dict[str, Any], inspect: Callable[[str], dict[str, Any] | None],
               exec_run: Callable[..., tuple[int, str, str]], make_redis: Callable[..., Any] | None,
               ) -> tuple[Any, dict[str, Any], list[dict[str, Any]]]:
    """The probe that asks Valkey as `access` says (redis-py with valkey_url, else valkey-cli in
    the Valkey container); the facts the result reports; and a cause when the Valkey container
    cannot be asked at all."""
    facts = {key: access[key] for key in ("credentials", "db", "tls_from", "tls", "tls_ca_cert")}
    timeout = min(10.0, max(1.0, settings.wait_timeout))
    credentials = (access["username"], access["password"])
    if settings.valkey_url_parts:
        probe = make_redis(settings.valkey_url_parts, mask_url(settings.valkey_url), settings.valkey_db, timeout,
                           *credentials, tls=access["tls"], ca_cert=access["tls_ca_cert"])
        facts["via"] = probe.describe()
        return probe, facts, []
    info = inspect(settings.valkey_container)
    facts["container"] = settings.valkey_container
    if info is None:
        return None, facts, [cause("valkey_container_missing", "ping", container=settings.valkey_container)]
    state = info.get("State") or {}
    if not state.get("Running") or state.get("Paused"):
        return None, facts, [cause("valkey_container_not_running", "ping", container=settings.valkey_container,
                                   status=state.get("Status", "stopped"), exit_code=state.get("ExitCode"))]
    facts["valkey_networks"] = sorted((info.get("NetworkSettings") or {}).get("Networks") or {})
    probe = ValkeyViaExec(exec_run, settings.valkey_container, access["port"], settings.valkey_db, *credentials,
                          tls=access["tls"], ca_cert=access["tls_ca_cert"], timeout=timeout)
    facts["via"] = probe.describe()
    return probe, facts, []
