# Copyright (c) owui.realtime contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Whether the Valkey an Open WebUI container's WEBSOCKET_REDIS_URL names is the Valkey being
checked.

The URL's host is resolved inside the Open WebUI container (getent uses the same resolver as
Open WebUI's redis-py), and the addresses are compared with the Valkey container's. Only an
address that belongs to another container on the Open WebUI container's networks is called
another Valkey: an address outside Docker's networks may still be the checked Valkey's
published port, so nothing is said about it. Without a Valkey container (valkey_url), nothing
is compared.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ansible_collections.owui.realtime.plugins.module_utils.causes import cause
from ansible_collections.owui.realtime.plugins.module_utils.masking import mask_url
from ansible_collections.owui.realtime.plugins.module_utils.open_webui_container import container_addresses

# getent's exit status when the name is not found.
GETENT_NOT_FOUND = 2


def parse_getent(text: str) -> list[str]:
    """The distinct addresses of `getent ahosts` output (one address and socket type a line)."""
    found: list[str] = []
    for line in text.splitlines():
        parts = line.split()
        if parts and parts[0] not in found:
            found.append(parts[0])
    return found


def resolution(rc: int, out: str, err: str) -> dict[str, Any]:
    """What `getent ahosts <host>` run in the container said: addresses, or unresolved with why,
    or unknown when getent could not be run (no claim is made then)."""
    addresses = parse_getent(out) if rc == 0 else []
    if addresses:
        return {"addresses": addresses}
    if rc == GETENT_NOT_FOUND or (rc == 0 and not addresses):
        return {"unresolved": "getent ahosts found no address"}
    return {"unknown": (err or out).strip() or f"getent exited with {rc}"}


def resolve_in(exec_run: Callable[[str, list[str], dict[str, str] | None], tuple[int, str, str]],
               container: str, host: str) -> dict[str, Any]:
    try:
        return resolution(*exec_run(container, ["getent", "ahosts", host], None))
    except Exception as exc:  # the engine refused the exec: say nothing about the URL
        return {"unknown": str(exc)}


def network_owners(networks: list[dict[str, Any]]) -> dict[str, str]:
    """Address -> container name, from `docker network inspect` of the container's networks."""
    owners: dict[str, str] = {}
    for network in networks:
        for member in (network.get("Containers") or {}).values():
            for key in ("IPv4Address", "IPv6Address"):
                address = (member.get(key) or "").split("/")[0]
                if address:
                    owners[address] = member.get("Name", "?")
    return owners


def target_causes(container: str, url: str, host: str, resolved: dict[str, Any], valkey: str,
                  valkey_addresses: list[str], owners: dict[str, str]) -> list[dict[str, Any]]:
    """Causes for one Open WebUI container whose URL host resolved as `resolved` says."""
    if "unresolved" in resolved:
        return [cause("redis_host_unresolved", "open_webui", host=host, container=container, url=mask_url(url),
                      error=resolved["unresolved"], valkey=valkey)]
    addresses = resolved.get("addresses") or []
    if not addresses or not valkey_addresses or set(addresses) & set(valkey_addresses):
        return []
    others = sorted({owners[a] for a in addresses if a in owners and owners[a] not in (valkey, container)})
    if not others:
        return []
    return [cause("other_valkey", "open_webui", container=container, host=host, url=mask_url(url),
                  addresses=", ".join(addresses), other="', '".join(others), valkey=valkey,
                  valkey_addresses=", ".join(valkey_addresses))]


def check_targets(containers: dict[str, Any], valkey: str, valkey_info: dict[str, Any] | None,
                  resolve: Callable[[str, str], dict[str, Any]],
                  inspect_network: Callable[[str], dict[str, Any] | None]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """For each running Open WebUI container with a readable URL and no sentinels: resolve the
    URL's host there and name a Valkey that is not the one checked (`valkey`, inspected as
    `valkey_info`). Returns the causes and, per container, what the host resolved to."""
    causes: list[dict[str, Any]] = []
    evidence: dict[str, Any] = {}
    if not valkey_info or not (valkey_info.get("State") or {}).get("Running"):
        return causes, evidence  # the ping check names that
    valkey_addresses = container_addresses(valkey_info)
    for name, item in containers.items():
        parsed = item.get("parsed_url")
        if not item.get("running") or not parsed or item["settings"].get("sentinel_hosts"):
            continue
        resolved = resolve(name, parsed["host"])
        evidence[name] = dict(resolved, host=parsed["host"])
        if "addresses" in resolved and not set(resolved["addresses"]) & set(valkey_addresses):
            networks = (item["info"].get("NetworkSettings") or {}).get("Networks") or {}
            inspected = [inspect_network(network) for network in sorted(networks)]
            owners = network_owners([n for n in inspected if n])
        else:
            owners = {}
        causes += target_causes(name, item["settings"]["redis_url"], parsed["host"], resolved, valkey,
                                valkey_addresses, owners)
    return causes, evidence
