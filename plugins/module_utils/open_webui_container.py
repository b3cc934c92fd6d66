# Copyright (c) owui.realtime contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What `docker inspect` of an Open WebUI container says about its websockets: the settings
Open WebUI derives from its environment, what in them keeps websockets off Valkey, and where
the container can be reached."""

from __future__ import annotations

from typing import Any

from ansible_collections.owui.realtime.plugins.module_utils.causes import cause
from ansible_collections.owui.realtime.plugins.module_utils.masking import mask_url
from ansible_collections.owui.realtime.plugins.module_utils.redis_url import is_loopback, parse_redis_url


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
        "sentinel_hosts": env.get("WEBSOCKET_SENTINEL_HOSTS", ""),
    }


def config_causes(container: str, settings: dict[str, Any], valkey_db: int, key_prefix: str) -> list[dict[str, Any]]:
    """Name what, in one Open WebUI container's environment, keeps websockets off Valkey (causes of
    the open_webui check; the runner moves db_mismatch and prefix_mismatch to valkey_side)."""
    check = "open_webui"
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
