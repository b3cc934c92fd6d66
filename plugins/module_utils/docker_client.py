# Copyright (c) owui.realtime contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Everything this collection takes from community.docker's Python code, in one file.

Why it is needed at all: community.docker offers no public Python API. Its modules share an
API client (AnsibleDockerClient) that handles docker_host, TLS, SSH and API versions, and writing
a second one would be worse than reusing it. Since community.docker 5.0.0 all of its module_utils
are private, and the client's file was renamed from common_api to _common_api; 4.8 has only the
old name. So the client is imported from whichever file exists, and nothing else in this
collection imports from community.docker: when the next release moves something again, this is
the file to change.

Reading a container's log needs three private methods of the client (_get, _url and
_get_result_tty, which splits the engine's stdout/stderr frames); community.docker's own
docker_container reads logs with the same three in 4.8 and 5.x, and has no public method for it.
"""

from __future__ import annotations

from typing import Any

try:  # community.docker 5.x
    from ansible_collections.community.docker.plugins.module_utils._common_api import (
        AnsibleDockerClient,
        RequestException,
    )
    from ansible_collections.community.docker.plugins.module_utils._util import DOCKER_COMMON_ARGS
except ImportError:  # community.docker 4.x
    from ansible_collections.community.docker.plugins.module_utils.common_api import (
        AnsibleDockerClient,
        RequestException,
    )
    from ansible_collections.community.docker.plugins.module_utils.util import DOCKER_COMMON_ARGS

# The vendored Docker SDK sits under _api in both major versions.
from ansible_collections.community.docker.plugins.module_utils._api.errors import (
    APIError,
    DockerException,
    NotFound,
)
from ansible_collections.community.docker.plugins.module_utils._api.utils.utils import (
    format_environment,
)

__all__ = [
    "DOCKER_COMMON_ARGS",
    "APIError",
    "AnsibleDockerClient",
    "DockerException",
    "LogNotReadable",
    "NotFound",
    "RequestException",
    "format_environment",
    "read_log",
]

# The drivers that keep a log the engine itself can hand back. community.docker's docker_container
# reads logs only for these. Other drivers send lines elsewhere (syslog, fluentd, ...); since
# Docker 20.10 the engine keeps a local copy of those too ("dual logging") unless that is turned
# off, so they are tried, and "none" never has one.
LOCAL_LOG_DRIVERS = ("json-file", "journald", "local")


class LogNotReadable(Exception):
    """The container's log driver keeps nothing the engine can hand back."""


def log_driver(inspect: dict[str, Any]) -> str:
    return (((inspect.get("HostConfig") or {}).get("LogConfig") or {}).get("Type")) or "json-file"


def read_log(client: Any, inspect: dict[str, Any], params: dict[str, Any]) -> bytes | str:
    """stdout and stderr of an inspected container as the logs API returns them for `params`.

    Raises LogNotReadable, naming the driver, when the container logs with driver "none" or
    with one whose lines the engine refuses to hand back."""
    driver = log_driver(inspect)
    if driver == "none":
        raise LogNotReadable(f"container '{inspect.get('Name', '').lstrip('/')}' logs with driver 'none', which keeps no log")
    tty = bool((inspect.get("Config") or {}).get("Tty"))
    try:
        response = client._get(client._url("/containers/{0}/logs", inspect["Id"]), params=params)
        return client._get_result_tty(False, response, tty)
    except APIError as exc:
        if driver in LOCAL_LOG_DRIVERS:
            raise
        raise LogNotReadable(f"container '{inspect.get('Name', '').lstrip('/')}' logs with driver '{driver}', whose "
                             f"lines the engine does not hand back (is dual logging off?): {exc}") from None
