# Copyright (c) owui.realtime contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The delivery check: an event put on Valkey reaches a websocket client on every Open WebUI
replica.

One client connects straight to each replica. For each client one emit is published on Valkey's
'socketio' channel the way python-socketio's pub/sub manager writes them (JSON, addressed to the
client's namespace sid as its room, with a host_id no replica has, so every replica handles it
and only the one holding that sid delivers it). A replica whose Socket.IO server does not
listen on this Valkey never delivers. Open WebUI 0.12.4 passes no channel to its manager, so the
channel is python-socketio's default 'socketio', without REDIS_KEY_PREFIX (that prefixes keys
only); its room-channel manager listens on 'socketio' as well as on per-room channels.

The probes (clients, Valkey) are handed in; the choices are plain functions.
"""

from __future__ import annotations

import json
import secrets
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ansible_collections.owui.realtime.plugins.module_utils.causes import cause
from ansible_collections.owui.realtime.plugins.module_utils.open_webui_container import env_to_dict
from ansible_collections.owui.realtime.plugins.module_utils.valkey_errors import classify_valkey_error
from ansible_collections.owui.realtime.plugins.module_utils.valkey_probe import ValkeyError
from ansible_collections.owui.realtime.plugins.module_utils.verdict import check_entry

CHANNEL = "socketio"
EVENT = "owui-realtime-delivery-check"


@dataclass
class Replica:
    """One Open WebUI replica to deliver to: a container on this host or a URL."""

    name: str
    url: str | None
    workers: int
    via: str  # how the URL was found: published port, container address, open_webui_url, given
    problem: str | None = None  # why there is no URL to connect to


def workers_from_env(env: dict[str, str]) -> int:
    """UVICORN_WORKERS the way Open WebUI 0.12 reads it: an integer of at least 1, else 1."""
    try:
        return max(int(env.get("UVICORN_WORKERS", "1")), 1)
    except ValueError:
        return 1


def delivery_wanted(setting: bool | None, containers: int, urls: int) -> bool:
    """Given, or on when there is more than one replica: one replica gains nothing from Valkey."""
    return setting if setting is not None else containers + urls > 1


def _address_url(addresses: list[str], port: int) -> str | None:
    ipv4 = [a for a in addresses if ":" not in a]
    if ipv4:
        return f"http://{ipv4[0]}:{port}"
    return f"http://[{addresses[0]}]:{port}" if addresses else None


def replicas(names: list[str], containers: dict[str, Any], urls: list[str], url_workers: int, port: int,
             open_webui_url: str | None) -> list[Replica]:
    """The replicas in the order given: containers first (the runner's view of each: running,
    published URL, addresses, environment), then the URLs of replicas elsewhere.

    A container is reached at its published port, else at its address on its network (the
    Docker host routes to both); open_webui_url only for a lone container, since with several
    it may lead to any of them."""
    found: list[Replica] = []
    for name in names:
        item = containers.get(name)
        if not item:
            found.append(Replica(name, None, 1, "", "the container does not exist"))
            continue
        workers = workers_from_env(env_to_dict(((item.get("info") or {}).get("Config") or {}).get("Env")))
        if not item.get("running"):
            found.append(Replica(name, None, workers, "", "the container is not running"))
            continue
        if item.get("url"):
            found.append(Replica(name, item["url"], workers, "published port"))
        elif _address_url(item.get("addresses") or [], port):
            found.append(Replica(name, _address_url(item["addresses"], port), workers, "container address"))
        elif open_webui_url and len(names) == 1:
            found.append(Replica(name, open_webui_url.rstrip("/"), workers, "open_webui_url"))
        else:
            found.append(Replica(name, None, workers, "", f"port {port} is not published and the container has "
                                                          "no network address"))
    found.extend(Replica(url.rstrip("/"), url.rstrip("/"), url_workers, "given") for url in urls)
    return found


def emit_message(sid: str, nonce: str, host_id: str) -> str:
    """The JSON python-socketio's PubSubManager publishes for `emit(EVENT, {"nonce": …}, to=sid)`."""
    return json.dumps({"method": "emit", "event": EVENT, "data": [{"nonce": nonce}], "namespace": "/",
                       "room": sid, "skip_sid": None, "callback": None, "host_id": host_id})


def label(replica: Replica) -> str:
    return f"container '{replica.name}'" if replica.via != "given" else f"'{replica.name}'"


def decide(found: list[Replica], outcomes: dict[str, dict[str, Any]], subscribers: int | None, bound: float,
           required: bool, duration: float = 0.0) -> dict[str, Any]:
    """The check's entry from what each replica's client saw (`outcomes` by replica name: error,
    or sid and latency_ms - None when the nonce never came) and PUBSUB NUMSUB socketio."""
    causes: list[dict[str, Any]] = []
    evidence: dict[str, Any] = {"channel": CHANNEL, "event": EVENT, "bound": bound, "replicas": {}}
    delivered = 0
    for replica in found:
        seen = outcomes.get(replica.name, {})
        evidence["replicas"][replica.name] = dict(seen, url=replica.url, via=replica.via, workers=replica.workers)
        if replica.problem:
            evidence["replicas"][replica.name]["error"] = replica.problem
            item = cause("delivery_unreachable", "delivery", replica=label(replica), url="(none)", error=replica.problem)
            item["transient"] = False  # the open_webui check names why, and waiting does not change it
            causes.append(item)
        elif "error" in seen:
            causes.append(cause("delivery_unreachable", "delivery", replica=label(replica), url=replica.url,
                                error=seen["error"]))
        elif seen.get("latency_ms") is None:
            causes.append(cause("not_delivered", "delivery", replica=label(replica), sid=seen.get("sid"), bound=bound))
        else:
            delivered += 1
    expected = sum(replica.workers for replica in found)
    evidence.update(subscribers=subscribers, expected_workers=expected)
    if subscribers is not None and subscribers < expected:
        workers = ", ".join(f"{r.name}: {r.workers}" for r in found)
        causes.append(cause("workers_not_subscribed", "delivery", subscribers=subscribers, expected=expected,
                            workers=workers))
    latencies = [f"{seen['latency_ms']} ms" for seen in outcomes.values() if seen.get("latency_ms") is not None]
    detail = (f"{delivered}/{len(found)} replicas delivered within {bound} s"
              + (f" ({', '.join(latencies)})" if latencies else "")
              + (f"; {subscribers}/{expected} workers subscribed to {CHANNEL}" if subscribers is not None else ""))
    return check_entry("failed" if causes else "ok", required, detail, evidence, causes, duration)


def deliver(found: list[Replica], listen: Callable[[str, str, float], Any], publish: Callable[[str, str], int],
            bound: float, connect_timeout: float) -> dict[str, dict[str, Any]]:
    """Connect one client per reachable replica, publish one nonce to each, and note the
    latency of each arrival (None when it did not come within `bound` seconds of the first
    publish). Raises what `publish` raises; the clients are closed either way."""
    outcomes: dict[str, dict[str, Any]] = {}
    clients: dict[str, Any] = {}
    host_id = "owui-realtime-check-" + uuid.uuid4().hex
    try:
        for replica in found:
            if replica.problem:
                continue
            try:
                clients[replica.name] = listen(replica.url, EVENT, connect_timeout)
            except Exception as exc:  # the listener's error carries engine.io's words
                outcomes[replica.name] = {"error": str(exc) or type(exc).__name__}
        sent: dict[str, tuple[str, float, int]] = {}
        for name, client in clients.items():
            nonce = secrets.token_hex(8)
            started = time.monotonic()
            receivers = publish(CHANNEL, emit_message(client.sid, nonce, host_id))
            sent[name] = (nonce, started, time.monotonic() - started, receivers)
        deadline = (min(s[1] for s in sent.values()) if sent else time.monotonic()) + bound
        for name, (nonce, started, took, receivers) in sent.items():
            arrived = clients[name].arrived(nonce, deadline)
            # From the start of the PUBLISH (which includes reaching Valkey, e.g. a docker exec).
            outcomes[name] = {"sid": clients[name].sid, "nonce": nonce, "published_to": receivers,
                              "publish_ms": round(took * 1000, 1),
                              "latency_ms": round((arrived - started) * 1000, 1) if arrived else None}
    finally:
        for client in clients.values():
            client.close()
    return outcomes


def delivery_check(settings: Any, probe: Any, ping: dict[str, Any], containers: dict[str, Any],
                   listen: Callable[[str, str, float], Any] | None, deadline: float, wanted: bool) -> dict[str, Any]:
    """The delivery entry of one round: skipped when not wanted, not run without a PONG."""
    started = time.monotonic()
    if not wanted:
        return check_entry("skipped", False, "skipped: one replica to check (delivery: true runs it anyway)")
    if ping["status"] != "ok":
        return check_entry("failed", True, "not run: Valkey did not answer PING", {},
                           [dict(item, check="delivery") for item in ping["causes"]])
    if listen is None:
        return check_entry("skipped", False, "skipped: no Socket.IO client to listen with")
    found = replicas(settings.open_webui_containers, containers, settings.open_webui_urls,
                     settings.open_webui_workers, settings.open_webui_port, settings.open_webui_url)
    connect_timeout = max(1.0, min(10.0, deadline - time.monotonic()))
    try:
        outcomes = deliver(found, listen, probe.publish, settings.delivery_timeout, connect_timeout)
        subscribers = probe.numsub(CHANNEL)
    except ValkeyError as exc:
        item = classify_valkey_error(str(exc), "delivery", probe.describe(), settings.key_prefix,
                                     tls=getattr(probe, "tls", None))
        return check_entry("failed", True, f"Valkey error: {exc}", {}, [item], time.monotonic() - started)
    return decide(found, outcomes, subscribers, settings.delivery_timeout, True, time.monotonic() - started)
