# Copyright (c) owui.realtime contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Who holds a TCP port on this host: the kernel's listening sockets (/proc/net/tcp and tcp6), the
processes that own them (/proc/<pid>/fd), and the containers Docker publishes the port for.

Standard library only: it runs on the Docker host with that host's own Python. The parsers and the
decision (which binding conflicts with which, and who is reported) are plain functions that take
text or lists, so unit tests call them with recorded inputs; only read_listeners() and
read_processes() touch /proc.
"""

from __future__ import annotations

import ipaddress
import os
import re
import sys
from typing import Any

# State column of /proc/net/tcp: 0A is TCP_LISTEN.
_LISTEN = "0A"
_SOCKET_LINK = re.compile(r"^socket:\[(\d+)\]$")
_CONTAINER_ID = re.compile(r"(?<![0-9a-f])([0-9a-f]{64})(?![0-9a-f])")


def decode_address(hex_address: str, byteorder: str = sys.byteorder) -> str:
    """The text form of an address as /proc/net/tcp{,6} prints it: the kernel writes each 32-bit word
    of the address in host byte order, so on little-endian hosts every word's bytes are reversed."""
    raw = bytes.fromhex(hex_address)
    if byteorder == "little":
        raw = b"".join(raw[i:i + 4][::-1] for i in range(0, len(raw), 4))
    address = ipaddress.ip_address(raw)
    if address.version == 6 and address.ipv4_mapped:
        return str(address.ipv4_mapped)
    return str(address)


def parse_proc_net_tcp(text: str, byteorder: str = sys.byteorder) -> list[dict[str, Any]]:
    """The listening sockets in the text of /proc/net/tcp or /proc/net/tcp6: address, port, inode."""
    listeners = []
    for line in text.splitlines()[1:]:
        fields = line.split()
        if len(fields) < 10 or fields[3] != _LISTEN:
            continue
        hex_address, _colon, hex_port = fields[1].partition(":")
        try:
            address = decode_address(hex_address, byteorder)
            listeners.append({"address": address, "port": int(hex_port, 16), "inode": int(fields[9])})
        except ValueError:
            continue
    return listeners


def container_id_from_cgroup(text: str) -> str | None:
    """The container a process runs in, from /proc/<pid>/cgroup: Docker's cgroups end in the
    container's 64-hex id (/docker/<id>, /system.slice/docker-<id>.scope, ...)."""
    for line in text.splitlines():
        found = _CONTAINER_ID.findall(line.rpartition(":")[2])
        if found:
            return found[-1]
    return None


def docker_proxy_target(cmdline: list[str]) -> str | None:
    """Where a docker-proxy process forwards to, from its arguments (-container-ip, -container-port)."""
    if not cmdline or os.path.basename(cmdline[0]) != "docker-proxy":
        return None
    # Pairs of flag and value; no zip(strict=...), which targets' Python before 3.10 lack.
    args = {cmdline[i]: cmdline[i + 1] for i in range(1, len(cmdline) - 1, 2)}
    if "-container-ip" not in args:
        return None
    return f"{args['-container-ip']}:{args.get('-container-port', '?')}"


def _ip(text: str):
    try:
        address = ipaddress.ip_address((text or "").strip("[]"))
    except ValueError:
        return None
    if address.version == 6 and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def bindings_conflict(wanted: str, held: str) -> bool:
    """Whether binding `wanted` fails while `held` is bound on the same port.

    The same address conflicts, and a wildcard (0.0.0.0, ::) conflicts with every address of its
    family; 127.0.0.1 and 10.0.0.5 do not. An IPv6 wildcard socket also takes IPv4 (Linux's default
    net.ipv6.bindv6only=0), so :: conflicts with every address and every address with ::."""
    want, have = _ip(wanted), _ip(held)
    if want is None or have is None:
        return wanted == held or (have is not None and have.is_unspecified)
    if want.version == have.version:
        return want == have or want.is_unspecified or have.is_unspecified
    return (have.version == 6 and have.is_unspecified) or (want.version == 6 and want.is_unspecified)


def container_bindings(containers: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The TCP ports published by running containers, from the engine's container list (what
    community.docker.docker_host_info returns with containers and verbose_output)."""
    bindings = []
    for container in containers or []:
        state = container.get("State")
        if state not in (None, "running", "paused", "restarting"):
            continue
        names = [n.lstrip("/") for n in container.get("Names") or []] or [str(container.get("Id", ""))[:12]]
        for port in container.get("Ports") or []:
            if port.get("Type", "tcp") != "tcp" or not port.get("PublicPort"):
                continue
            bindings.append({"container": names[0], "id": container.get("Id", ""),
                             "address": port.get("IP") or "0.0.0.0", "port": int(port["PublicPort"]),
                             "container_port": port.get("PrivatePort")})
    return bindings


def _address_port(address: str, port: int) -> str:
    return f"[{address}]:{port}" if ":" in address else f"{address}:{port}"


def find_holders(address: str, port: int, listeners: list[dict[str, Any]], processes: dict[int, list[dict[str, Any]]],
                 containers: list[dict[str, Any]], own_container: str = "") -> dict[str, Any]:
    """Who would make a bind of address:port fail, apart from own_container.

    listeners: parse_proc_net_tcp's entries; processes: socket inode -> the processes holding it
    ({pid, comm, cmdline, container_id}); containers: the engine's container list. A docker-proxy
    listener is reported as the container whose published binding it serves; a process inside a
    container (host networking) names that container."""
    bindings = [b for b in container_bindings(containers) if b["port"] == port]
    by_id = {c.get("Id", ""): (c.get("Names") or ["/?"])[0].lstrip("/") for c in containers or []}
    holders: dict[str, dict[str, Any]] = {}
    own = False

    for binding in bindings:
        if not bindings_conflict(address, binding["address"]):
            continue
        if binding["container"] == own_container:
            own = True
            continue
        holders.setdefault("container " + binding["container"], {
            "kind": "container", "name": binding["container"], "id": binding["id"], "pid": None,
            "address": binding["address"], "port": port,
            "description": f"container '{binding['container']}' (publishes {_address_port(binding['address'], port)})",
            "remedy": f"stop the container {binding['container']} (docker stop {binding['container']})"})

    for listener in listeners:
        if listener["port"] != port or not bindings_conflict(address, listener["address"]):
            continue
        where = _address_port(listener["address"], port)
        owners = processes.get(listener["inode"]) or [None]
        for proc in owners:
            if proc is not None and proc.get("comm") == "docker-proxy":
                served = [b for b in bindings if b["address"] == listener["address"]]
                if any(b["container"] == own_container for b in served):
                    own = True
                    continue
                if served:
                    continue  # reported above as the container
            if proc is None:
                key, entry = f"socket {listener['inode']}", {
                    "kind": "process", "name": "", "id": "", "pid": None, "address": listener["address"], "port": port,
                    "description": f"a process this check cannot name (listening on {where}; run it as root to see which)",
                    "remedy": f"stop what listens on {where} ('ss -ltnp' as root names it)"}
                holders.setdefault(key, entry)
            else:
                container = by_id.get(proc.get("container_id") or "", "")
                if container and container == own_container:
                    own = True
                    continue
                target = docker_proxy_target(proc.get("cmdline") or [])
                detail = (f" in container '{container}'" if container else
                          f", forwarding to {target} for a container this engine does not list" if target else "")
                # A socket shared by a parent and its workers (nginx, uvicorn) is one holder with several pids.
                key = f"process {proc.get('comm')} {container} {listener['address']}"
                pids = (holders[key]["pids"] if key in holders else []) + [proc["pid"]]
                named = f"{proc.get('comm', '?')} ({'pid' if len(pids) == 1 else 'pids'} {', '.join(map(str, pids))})"
                entry = {
                    "kind": "process", "name": proc.get("comm", ""), "id": "", "pid": pids[0], "pids": pids,
                    "address": listener["address"], "port": port, "container": container,
                    "description": f"process {named}{detail} listening on {where}",
                    "remedy": (f"stop the container {container} (docker stop {container})" if container
                               else f"stop {named}")}
                holders[key] = entry

    found = list(holders.values())
    return {"free": not found, "held_by_own_container": own, "holders": found,
            "summary": "; ".join(h["description"] for h in found),
            "remedy": " and ".join(dict.fromkeys(h["remedy"] for h in found))}


def read_listeners(proc: str = "/proc") -> list[dict[str, Any]]:
    """The listening TCP sockets of this network namespace (IPv4 and IPv6)."""
    listeners = []
    for name in ("tcp", "tcp6"):
        try:
            with open(os.path.join(proc, "net", name), encoding="ascii") as table:
                listeners += parse_proc_net_tcp(table.read())
        except OSError:
            continue  # no IPv6 on this host
    return listeners


def _read(path: str) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return handle.read()
    except OSError:
        return ""


def read_processes(inodes: set[int], proc: str = "/proc") -> dict[int, list[dict[str, Any]]]:
    """For each socket inode, the processes that hold it open. Processes whose file descriptors this
    user may not read are left out (run as root to see them all)."""
    owners: dict[int, list[dict[str, Any]]] = {}
    if not inodes:
        return owners
    for pid in os.listdir(proc):
        if not pid.isdigit():
            continue
        fd_dir = os.path.join(proc, pid, "fd")
        try:
            fds = os.listdir(fd_dir)
        except OSError:
            continue
        held = set()
        for fd in fds:
            try:
                match = _SOCKET_LINK.match(os.readlink(os.path.join(fd_dir, fd)))
            except OSError:
                continue
            if match and int(match.group(1)) in inodes:
                held.add(int(match.group(1)))
        if not held:
            continue
        entry = {"pid": int(pid), "comm": _read(os.path.join(proc, pid, "comm")).strip(),
                 "cmdline": [a for a in _read(os.path.join(proc, pid, "cmdline")).split("\0") if a],
                 "container_id": container_id_from_cgroup(_read(os.path.join(proc, pid, "cgroup")))}
        for inode in held:
            owners.setdefault(inode, []).append(entry)
    return owners
