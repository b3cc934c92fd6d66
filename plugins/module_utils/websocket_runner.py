# Copyright (c) owui.realtime contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The order of the websocket checks, and polling until they pass or cannot pass.

The probes (Docker engine, Valkey, Socket.IO) are handed in, so this file holds only the
sequence: what is asked first, what depends on what, and which evidence goes where.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ansible_collections.owui.realtime.plugins.module_utils.causes import cause
from ansible_collections.owui.realtime.plugins.module_utils.check_settings import Settings
from ansible_collections.owui.realtime.plugins.module_utils.delivery import delivery_check, delivery_wanted
from ansible_collections.owui.realtime.plugins.module_utils.docker_time import docker_since
from ansible_collections.owui.realtime.plugins.module_utils.log_scan import LOG_LINE, scan_log
from ansible_collections.owui.realtime.plugins.module_utils.masking import mask_url
from ansible_collections.owui.realtime.plugins.module_utils.open_webui_container import (
    config_causes,
    container_addresses,
    env_to_dict,
    open_webui_settings,
    published_url,
)
from ansible_collections.owui.realtime.plugins.module_utils.redis_url import parse_redis_url
from ansible_collections.owui.realtime.plugins.module_utils.valkey_access import open_probe, valkey_access
from ansible_collections.owui.realtime.plugins.module_utils.valkey_errors import classify_valkey_error
from ansible_collections.owui.realtime.plugins.module_utils.valkey_probe import ValkeyError
from ansible_collections.owui.realtime.plugins.module_utils.valkey_replies import client_ip, is_subscriber
from ansible_collections.owui.realtime.plugins.module_utils.valkey_target import check_targets
from ansible_collections.owui.realtime.plugins.module_utils.verdict import (
    all_causes,
    check_entry,
    required_checks,
    summary,
    worth_waiting,
)

SOCKETIO_CHANNEL = "socketio"
# Causes that concern where the check looks rather than Open WebUI itself.
VALKEY_SIDE_CONFIG_CAUSES = ("db_mismatch", "prefix_mismatch")


@dataclass
class Probes:
    """What the runner may ask the world; the module wires these to real clients."""

    inspect: Callable[[str], dict[str, Any] | None]
    logs: Callable[[dict[str, Any], str | None], str]
    exec_run: Callable[[str, list[str], dict[str, str] | None], tuple[int, str, str]]
    handshake: Callable[[str, float], dict[str, Any]]
    make_redis: Callable[..., Any] | None = None
    register_secret: Callable[[str], None] = lambda secret: None
    # For the delivery check: a connected Socket.IO client (url, event, timeout) with .sid,
    # .arrived(nonce, deadline) and .close(); and for comparing Open WebUI's Valkey with the one
    # checked: getent in a container (container, host), `docker network inspect`.
    listen: Callable[[str, str, float], Any] | None = None
    resolve: Callable[[str, str], dict[str, Any]] | None = None
    inspect_network: Callable[[str], dict[str, Any] | None] | None = None


class _Secrets:
    """Secrets met during a run: kept to scrub log lines, and handed to the caller's register_secret
    (the module's no_log_values) as they appear."""

    def __init__(self, register: Callable[[str], None]) -> None:
        self.values: list[str] = []
        self._register = register

    def add(self, secret: str | None) -> None:
        if secret and secret not in self.values:
            self.values.append(secret)
            self._register(secret)


class _Timer:
    def __init__(self) -> None:
        self.start = time.monotonic()

    def __call__(self) -> float:
        return time.monotonic() - self.start


def _inspect_open_webui(settings: Settings, probes: Probes, secrets: _Secrets,
                        required: bool) -> tuple[dict[str, Any], dict[str, Any]]:
    timer = _Timer()
    containers: dict[str, Any] = {}
    evidence: dict[str, Any] = {}
    causes: list[dict[str, Any]] = []
    side_causes: list[dict[str, Any]] = []
    for name in settings.open_webui_containers:
        info = probes.inspect(name)
        if info is None:
            causes.append(cause("container_missing", "open_webui", container=name))
            evidence[name] = {"exists": False}
            continue
        state = info.get("State") or {}
        running = bool(state.get("Running")) and not state.get("Paused")
        if not running:
            causes.append(cause("container_not_running", "open_webui", container=name,
                                status=state.get("Status", "stopped"), exit_code=state.get("ExitCode")))
        env_settings = open_webui_settings(env_to_dict((info.get("Config") or {}).get("Env")))
        parsed_url = None
        if env_settings["redis_url"]:
            try:
                parsed_url = parse_redis_url(env_settings["redis_url"])
            except ValueError:
                parsed_url = None
        if parsed_url:
            secrets.add(parsed_url["password"])
        for item in config_causes(name, env_settings, settings.valkey_db, settings.key_prefix):
            if item["id"] in VALKEY_SIDE_CONFIG_CAUSES:
                item["check"] = "valkey_side"
                side_causes.append(item)
            else:
                causes.append(item)
        networks = (info.get("NetworkSettings") or {}).get("Networks") or {}
        containers[name] = {
            "info": info,
            "running": running,
            "settings": env_settings,
            "parsed_url": parsed_url,
            "addresses": container_addresses(info),
            "url": published_url(info, settings.open_webui_port),
        }
        evidence[name] = {
            "exists": True,
            "status": state.get("Status"),
            "health": (state.get("Health") or {}).get("Status"),
            "started_at": state.get("StartedAt"),
            "networks": sorted(networks),
            "addresses": containers[name]["addresses"],
            "published_url": containers[name]["url"],
            "websocket_manager": env_settings["websocket_manager"],
            "enable_websocket_support": env_settings["enable_websocket_support"],
            "websocket_redis_url": mask_url(env_settings["redis_url"]) or None,
            "websocket_redis_url_from": env_settings["redis_url_source"],
            "key_prefix": env_settings["key_prefix"],
            "db": parsed_url["db"] if parsed_url else None,
        }
    running = sum(1 for item in containers.values() if item["running"])
    detail = f"{running}/{len(settings.open_webui_containers)} Open WebUI containers running"
    if not causes:
        detail += ", WEBSOCKET_MANAGER=redis, websockets enabled, Valkey URL not loopback"
    entry = check_entry("failed" if causes else "ok", required, detail, {"containers": evidence}, causes, timer())
    return entry, {"containers": containers, "side_causes": side_causes}


def _ping(probe: Any, facts: dict[str, Any], early: list[dict[str, Any]], settings: Settings, required: bool) -> dict[str, Any]:
    timer = _Timer()
    evidence = {key: facts[key] for key in ("via", "container", "credentials", "db", "tls", "tls_from", "tls_ca_cert")
                if key in facts}
    if probe is None:
        return check_entry("failed", required, early[0]["message"], evidence, early, timer())
    target = facts.get("via", "Valkey")
    try:
        reply = probe.ping()
    except ValkeyError as exc:
        item = classify_valkey_error(str(exc), "ping", target, settings.key_prefix, tls=facts.get("tls"))
        return check_entry("failed", required, f"no PONG: {exc}", evidence, [item], timer())
    evidence["reply"] = reply
    if reply != "PONG":
        item = cause("valkey_error", "ping", target=target, error=reply)
        return check_entry("failed", required, f"PING answered {reply!r}", evidence, [item], timer())
    return check_entry("ok", required, "PONG", evidence, [], timer())


def _websocket(settings: Settings, probes: Probes, containers: dict[str, Any], deadline: float,
               required: bool, owui_causes: list[dict[str, Any]]) -> dict[str, Any]:
    timer = _Timer()
    targets: list[str] = []
    if settings.open_webui_url:
        targets.append(settings.open_webui_url.rstrip("/"))
    targets += [url.rstrip("/") for url in settings.open_webui_urls if url.rstrip("/") not in targets]
    for item in containers.values():
        if item["running"] and item["url"] and item["url"] not in targets:
            targets.append(item["url"])
    if not targets:
        detail = "skipped: no open_webui_url given and no Open WebUI container publishes port " \
                 f"{settings.open_webui_port}"
        if required:
            item = cause("no_websocket_url", "websocket", port=settings.open_webui_port)
            return check_entry("failed", required, detail, {}, [item], timer())
        return check_entry("skipped", required, detail, {}, [], timer())
    results: dict[str, Any] = {}
    causes: list[dict[str, Any]] = []
    for url in targets:
        remaining = max(1.0, min(10.0, deadline - time.monotonic()))
        result = probes.handshake(url, remaining)
        results[url] = result
        if not result.get("ok"):
            causes.append(cause("handshake_failed", "websocket", url=url + "/ws/socket.io", error=result.get("error")))
    if causes:
        # What the containers' configuration already says is the better explanation.
        for item in owui_causes:
            if item["id"] in ("websocket_disabled", "container_not_running", "container_missing"):
                causes.append(dict(item, check="websocket"))
        return check_entry("failed", required, "websocket handshake failed", {"handshakes": results}, causes, timer())
    detail = "websocket handshake ok" if len(targets) == 1 else f"{len(targets)}/{len(targets)} websocket handshakes ok"
    return check_entry("ok", required, detail, {"handshakes": results}, [], timer())


def _valkey_target(settings: Settings, probes: Probes, containers: dict[str, Any], owui: dict[str, Any]) -> None:
    """Name at once an Open WebUI container whose URL leads to another Valkey than the one checked."""
    if settings.valkey_url_parts or probes.resolve is None or probes.inspect_network is None:
        return
    causes, seen = check_targets(containers, settings.valkey_container, probes.inspect(settings.valkey_container),
                                 probes.resolve, probes.inspect_network)
    for name, value in seen.items():
        owui["evidence"]["containers"][name]["valkey_host"] = value
    if causes:
        owui.update(status="failed", detail=causes[0]["message"], causes=owui["causes"] + causes)


def _valkey_side(settings: Settings, probe: Any, ping: dict[str, Any], containers: dict[str, Any],
                 handshake: str, side_causes: list[dict[str, Any]], required: bool) -> dict[str, Any]:
    """handshake: 'done' (a client connected this round), 'pending' (tried, failed for a reason that
    may clear, as while Open WebUI reconnects after a Valkey outage) or 'none'."""
    timer = _Timer()
    handshake_done = handshake == "done"
    # A subscription may still come after a handshake, or once a pending one succeeds: worth waiting.
    may_subscribe = handshake in ("done", "pending")
    if ping["status"] != "ok":
        return check_entry("failed" if required else "skipped", required, "not run: Valkey did not answer PING",
                           {}, [dict(item, check="valkey_side") for item in ping["causes"]] if required else [], timer())
    target = probe.describe()
    causes: list[dict[str, Any]] = list(side_causes)
    evidence: dict[str, Any] = {"channel": SOCKETIO_CHANNEL, "db": settings.valkey_db, "key_prefix": settings.key_prefix}
    try:
        subscribers = probe.numsub(SOCKETIO_CHANNEL)
        clients = probe.client_list()
        keys = probe.count_keys(settings.key_prefix, settings.valkey_db)
        other_dbs: dict[int, int] = {}
        if keys == 0:
            for db, count in sorted(probe.keyspace().items()):
                if db != settings.valkey_db and count:
                    found = probe.count_keys(settings.key_prefix, db)
                    if found:
                        other_dbs[db] = found
    except ValkeyError as exc:
        item = classify_valkey_error(str(exc), "valkey_side", target, settings.key_prefix, tls=getattr(probe, "tls", None))
        return check_entry("failed", required, f"Valkey error: {exc}", evidence, [item], timer())
    expected = len(settings.open_webui_containers)
    evidence.update(subscribers=subscribers, expected_subscribers=expected, keys=keys, keys_in_other_dbs=other_dbs)
    if handshake_done:
        fix = ("Open WebUI's Socket.IO server is not subscribed to this Valkey although a client connected: "
               "check WEBSOCKET_MANAGER, WEBSOCKET_REDIS_URL (host, credentials, db) and the Open WebUI log.")
    else:
        fix = ("python-socketio may subscribe only once its first Socket.IO client has connected: give "
               "open_webui_url (or publish port 8080) so the check opens one.")
    if subscribers < expected:
        item = cause("not_subscribed", "valkey_side", subscribers=subscribers, expected=expected, fix=fix)
        item["transient"] = may_subscribe
        causes.append(item)
    connected: dict[str, Any] = {}
    subscribed = 0
    for name in settings.open_webui_containers:
        addresses = (containers.get(name) or {}).get("addresses") or []
        mine = [c for c in clients if client_ip(c) in addresses]
        connected[name] = [
            {"addr": c.get("addr"), "db": c.get("db"), "cmd": c.get("cmd"), "subscriber": is_subscriber(c)}
            for c in mine
        ]
        if not mine:
            causes.append(cause("no_client_connection", "valkey_side", container=name,
                                addresses=", ".join(addresses) or "no address"))
        elif not any(is_subscriber(c) for c in mine):
            item = cause("container_not_subscribed", "valkey_side", container=name, fix=fix)
            item["transient"] = may_subscribe
            causes.append(item)
        else:
            subscribed += 1
    evidence["clients"] = connected
    if keys == 0:
        if other_dbs:
            db, count = next(iter(other_dbs.items()))
            causes.append(cause("other_db", "valkey_side", key_prefix=settings.key_prefix, db=settings.valkey_db,
                                count=count, other_db=db))
        else:
            causes.append(cause("no_keys", "valkey_side", key_prefix=settings.key_prefix, db=settings.valkey_db))
    with_clients = sum(1 for value in connected.values() if value)
    # Replicas given only by URL have no container here to match clients to; the delivery check covers them.
    per_container = (f"{subscribed}/{expected} subscribed to {SOCKETIO_CHANNEL} ({subscribers} subscribers in all); "
                     f"{with_clients}/{expected} clients connected; ") if expected else ""
    detail = f"{per_container}{keys} keys under {settings.key_prefix}: in db {settings.valkey_db}"
    return check_entry("failed" if causes else "ok", required, detail, evidence, causes, timer())


def _log_line(settings: Settings, probes: Probes, containers: dict[str, Any], required: bool,
              secrets: tuple[str, ...]) -> tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]]]:
    """Scan each running container's log since its current start; return the check, causes for
    the open_webui check (fallback) and hints (Valkey errors Open WebUI logged)."""
    timer = _Timer()
    evidence: dict[str, Any] = {}
    causes: list[dict[str, Any]] = []
    fallback: list[dict[str, Any]] = []
    hints: list[dict[str, Any]] = []
    for name in settings.open_webui_containers:
        item = containers.get(name)
        if not item or not item["running"]:
            evidence[name] = {"found": False, "reason": "container not running"}
            causes.append(cause("log_line_missing", "log_line", line=LOG_LINE,
                                container=name, started_at="(not running)"))
            continue
        started_at = (item["info"].get("State") or {}).get("StartedAt")
        text = probes.logs(item["info"], docker_since(started_at))
        scan = scan_log(text, started_at, secrets)
        evidence[name] = dict(scan, since=started_at)
        if not scan["found"]:
            causes.append(cause("log_line_missing", "log_line", line=LOG_LINE,
                                container=name, started_at=started_at))
        for line in scan["fallback"][:1]:
            fallback.append(cause("in_memory_fallback", "open_webui", container=name, started_at=started_at, line=line))
        for line in scan["valkey_errors"][:2]:
            named = classify_valkey_error(line, "valkey_side", f"Open WebUI '{name}'", settings.key_prefix)
            hint = cause("valkey_errors_in_log", "valkey_side", container=name, line=line,
                         fix=f"{named['id']}: {named['fix']}")
            hints.append(hint)
    found = sum(1 for value in evidence.values() if value.get("found"))
    detail = f"'{LOG_LINE}' printed since start by {found}/{len(settings.open_webui_containers)}"
    status = "skipped" if not settings.open_webui_containers else "failed" if causes else "ok"
    entry = check_entry(status, required, detail, evidence, causes, timer())
    return entry, fallback, hints


def _handshake_state(websocket: dict[str, Any]) -> str:
    """'done' when a client connected in this round, 'pending' when one was tried and failed only
    for reasons that may clear by waiting, else 'none'."""
    handshakes = websocket["evidence"].get("handshakes", {})
    if any(r.get("ok") for r in handshakes.values()):
        return "done"
    causes = websocket.get("causes") or []
    if handshakes and causes and all(item["transient"] for item in causes):
        return "pending"
    return "none"


def attempt(settings: Settings, probes: Probes, deadline: float, secrets: _Secrets) -> tuple[dict[str, Any], dict[str, Any]]:
    """One pass over all checks. Order matters: the handshake comes before the Valkey-side
    check because Open WebUI subscribes to 'socketio' only once a client has connected."""
    required = required_checks(settings.require)
    owui, state = _inspect_open_webui(settings, probes, secrets, required["open_webui"])
    containers = state["containers"]
    access = valkey_access(settings, containers, secrets.add)
    probe, facts, early = open_probe(settings, access, probes.inspect, probes.exec_run, probes.make_redis)
    _valkey_target(settings, probes, containers, owui)
    wanted = delivery_wanted(settings.delivery, len(settings.open_webui_containers), len(settings.open_webui_urls))
    try:
        ping = _ping(probe, facts, early, settings, required["ping"])
        websocket = _websocket(settings, probes, containers, deadline, required["websocket"], owui["causes"])
        delivery = delivery_check(settings, probe, ping, containers, probes.listen, deadline, wanted)
        side = _valkey_side(settings, probe, ping, containers, _handshake_state(websocket), state["side_causes"],
                            required["valkey_side"])
        log_entry, fallback, hints = _log_line(settings, probes, containers, required["log_line"], tuple(secrets.values))
    finally:
        if probe is not None and hasattr(probe, "close"):
            probe.close()
    if fallback:
        owui["causes"].extend(fallback)
        owui["status"] = "failed"
        owui["detail"] = fallback[0]["message"]
    if side["status"] == "failed":
        side["causes"].extend(hints)
    checks = {"ping": ping, "open_webui": owui, "websocket": websocket, "delivery": delivery, "valkey_side": side,
              "log_line": log_entry}
    return checks, facts


def run(settings: Settings, probes: Probes, sleep: Callable[[float], None] = time.sleep) -> dict[str, Any]:
    """Repeat the checks until the required ones pass, one fails for a reason waiting cannot
    change, or wait_timeout runs out. Returns the module's result (without changed/failed)."""
    secrets = _Secrets(probes.register_secret)
    secrets.add(settings.valkey_password)
    start = time.monotonic()
    deadline = start + settings.wait_timeout
    attempts = 0
    while True:
        attempts += 1
        checks, facts = attempt(settings, probes, deadline, secrets)
        if not worth_waiting(checks) or time.monotonic() + settings.interval >= deadline:
            break
        sleep(settings.interval)
    # The result's causes explain the verdict; a check that was not required keeps its own.
    causes = all_causes(checks, required_only=True)
    return {
        "checks": checks,
        "causes": [{key: item[key] for key in ("id", "check", "message", "fix")} for item in causes],
        "msg": summary(checks),
        "valkey": facts,
        "attempts": attempts,
        "elapsed": round(time.monotonic() - start, 3),
        "failed": any(checks[n]["required"] and checks[n]["status"] == "failed" for n in checks),
    }
