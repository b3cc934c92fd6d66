# Copyright (c) owui.realtime contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Read-only questions to the Docker engine, through community.docker's client.

The client is community.docker's AnsibleDockerClient (imported through docker_client), so
connection options, TLS and API version handling are the ones every community.docker module has.
"""

from __future__ import annotations

from typing import Any

from ansible_collections.owui.realtime.plugins.module_utils.docker_client import (
    APIError,
    NotFound,
    format_environment,
    read_log,
)


class ExecFailed(Exception):
    """The engine could not run a command in a container (not running, paused, gone)."""


def inspect_container(client: Any, name: str) -> dict[str, Any] | None:
    """`docker inspect` of a container by name or id; None when there is no such container."""
    try:
        return client.get_json("/containers/{0}/json", name)
    except NotFound:
        return None


def inspect_network(client: Any, name: str) -> dict[str, Any] | None:
    """`docker network inspect` by name or id (its Containers: name and addresses of each member)."""
    try:
        return client.get_json("/networks/{0}", name)
    except NotFound:
        return None


def container_log(client: Any, inspect: dict[str, Any], since: str | None, tail: int | None = None,
                  timestamps: bool = True) -> str:
    """stdout and stderr of an inspected container since a time (the logs API's seconds.nanoseconds),
    the last `tail` lines only when given, each line prefixed with its timestamp unless told not to.
    Raises docker_client.LogNotReadable when the container's log driver keeps no log to read."""
    params: dict[str, Any] = {"stdout": 1, "stderr": 1, "timestamps": int(timestamps), "tail": str(tail) if tail else "all"}
    if since:
        params["since"] = since
    raw = read_log(client, inspect, params)
    return raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else str(raw)


def exec_in(client: Any, container: str, argv: list[str], env: dict[str, str] | None = None) -> tuple[int, str, str]:
    """Run a command in a container like `docker exec`; return exit code, stdout and stderr.

    Secrets go in `env`: the engine hands them to the process environment, so they appear
    neither on a command line (ps) nor in what this function returns.
    """
    data = {
        "Container": container,
        "User": "",
        "Privileged": False,
        "Tty": False,
        "AttachStdin": False,
        "AttachStdout": True,
        "AttachStderr": True,
        "Cmd": argv,
        "Env": format_environment(env) if env else None,
    }
    try:
        exec_id = client.post_json_to_json("/containers/{0}/exec", container, data=data)["Id"]
        stdout, stderr = client.post_json_to_stream(
            "/exec/{0}/start", exec_id, data={"Tty": False, "Detach": False}, stream=False, tty=False, demux=True
        )
        rc = client.get_json("/exec/{0}/json", exec_id).get("ExitCode")
    except NotFound as exc:
        raise ExecFailed(f"container '{container}' not found: {exc}") from None
    except APIError as exc:
        # 409: the container is not running or is paused.
        raise ExecFailed(str(exc)) from None
    return (
        rc if rc is not None else -1,
        (stdout or b"").decode("utf-8", errors="replace"),
        (stderr or b"").decode("utf-8", errors="replace"),
    )
