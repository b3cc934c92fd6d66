# Copyright (c) owui.realtime contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Python libraries this collection's modules import on a target host, with the oldest
release each was tested with there and the distribution packages that bring it.

The floors are the releases Debian 12 ships: the SSH test host is a plain Debian 12 Docker host
whose system Python gets exactly these packages, and the whole deploy and verify runs on them.
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple


class Library(NamedTuple):
    name: str          # distribution name, as pip and importlib.metadata know it
    module: str        # what the modules import
    minimum: str       # oldest release tested on a target
    apt: str           # Debian and Ubuntu package
    needed_for: str    # which part of the collection imports it


LIBRARIES: tuple[Library, ...] = (
    Library("requests", "requests", "2.28", "python3-requests",
            "community.docker's modules and owui.realtime's Docker modules talk to the engine with it"),
    Library("python-socketio", "socketio", "5.7", "python3-socketio",
            "websocket_check's Socket.IO handshake"),
    Library("websocket-client", "websocket", "1.2", "python3-websocket",
            "websocket_check's Socket.IO handshake over the websocket transport"),
)

# Only websocket_check's valkey_url option imports redis-py; verify does not use it, so no host
# gets it unasked.
OPTIONAL: tuple[Library, ...] = (
    Library("redis", "redis", "4.3", "python3-redis", "websocket_check with valkey_url"),
)


def version_tuple(text: str) -> tuple[int, ...]:
    """``"2.28.1"`` -> ``(2, 28, 1)``; a release's leading numbers only (``"5.7.2+dfsg"`` -> ``(5, 7, 2)``)."""
    match = re.match(r"\d+(?:\.\d+)*", text or "")
    return tuple(int(part) for part in match.group(0).split(".")) if match else ()


def assess(library: Library, found: str | None, import_error: str | None) -> dict[str, Any]:
    """One library's verdict from what the target's Python reported."""
    if import_error or found is None:
        problem = f"not importable ({import_error})" if import_error else "not installed"
    elif version_tuple(found) < version_tuple(library.minimum):
        problem = f"version {found} is older than {library.minimum}"
    else:
        problem = None
    return {
        "name": library.name,
        "module": library.module,
        "minimum": library.minimum,
        "version": found,
        "package": library.apt,
        "needed_for": library.needed_for,
        "ok": problem is None,
        "problem": problem,
    }


def package_manager(os_release: dict[str, str]) -> str | None:
    """``apt`` on Debian, Ubuntu and their derivatives; None where this collection does not install."""
    families = {os_release.get("ID", "")} | set(os_release.get("ID_LIKE", "").split())
    return "apt" if families & {"debian", "ubuntu"} else None


def parse_os_release(text: str) -> dict[str, str]:
    values = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep and key.strip() and not key.startswith("#"):
            values[key.strip()] = value.strip().strip("\"'")
    return values


def summary(python: str, verdicts: list[dict[str, Any]], manager: str | None) -> str:
    """What is missing, on which Python, and the two ways to fix it; empty when nothing is."""
    bad = [v for v in verdicts if not v["ok"]]
    if not bad:
        return ""
    listed = "; ".join(f"{v['name']} >= {v['minimum']} ({v['problem']}; {v['needed_for']})" for v in bad)
    pip_names = " ".join(f"'{v['name']}>={v['minimum']}'" for v in bad)
    packages = " ".join(v["package"] for v in bad)
    distro = f"apt-get install {packages}" if manager == "apt" else f"your distribution's packages ({packages} on Debian)"
    return (f"The Python that Ansible uses here ({python}) lacks {listed}. "
            f"Install them with {distro}, or {python} -m pip install {pip_names}.")
