#!/usr/bin/python
# Copyright (c) owui.realtime contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: container_log
short_description: Read the last lines of a container's log
version_added: 0.1.0
description:
  - Reads a container's stdout and stderr through the Docker Engine API, so that a failed
    deployment can show what the container said without calling the docker CLI.
  - Read-only; never reports a change.
extends_documentation_fragment:
  - owui.realtime.docker_api
  - owui.realtime.read_only
options:
  name:
    description: Name or ID of the container.
    type: str
    required: true
  tail:
    description: How many lines from the end to return; C(0) returns all.
    type: int
    default: 50
  since_start:
    description: Only lines written since the container's current start, not earlier runs.
    type: bool
    default: false
author:
  - owui.realtime maintainers (!UNKNOWN)
"""

EXAMPLES = r"""
- name: Show the last lines Valkey logged
  owui.realtime.container_log:
    name: redis-valkey
    tail: 20
  register: valkey_log
"""

RETURN = r"""
exists:
  description: Whether the container exists.
  type: bool
  returned: always
lines:
  description:
    - Log lines, oldest first.
    - Empty when the container does not exist, or when its log driver keeps no log the engine can
      hand back (C(none), or another driver with Docker's dual logging off); a warning says which.
  type: list
  elements: str
  returned: always
  sample: ["1:M 27 Nov 2026 06:00:00.000 * Ready to accept connections tcp"]
"""

from ansible_collections.owui.realtime.plugins.module_utils.docker_client import (
    AnsibleDockerClient,
    DockerException,
    LogNotReadable,
    RequestException,
)
from ansible_collections.owui.realtime.plugins.module_utils.docker_probe import container_log
from ansible_collections.owui.realtime.plugins.module_utils.docker_time import docker_since

ARGUMENT_SPEC = dict(
    name=dict(type="str", required=True),
    tail=dict(type="int", default=50),
    since_start=dict(type="bool", default=False),
)


def main():
    client = AnsibleDockerClient(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    params = client.module.params
    try:
        container = client.get_container(params["name"])
        if container is None:
            client.module.exit_json(changed=False, exists=False, lines=[])
        # since_start: an earlier run's lines cannot be mistaken for the present one's. Whole seconds,
        # because a process writes its first lines before the engine records StartedAt.
        since = docker_since((container.get("State") or {}).get("StartedAt")) if params["since_start"] else None
        since = since.split(".")[0] if since else None
        lines = container_log(client, container, since, tail=params["tail"] or None, timestamps=False).splitlines()
    except LogNotReadable as exc:
        client.module.warn(f"No log lines to show: {exc}")
        lines = []
    except (DockerException, RequestException) as exc:
        client.fail(f"Could not read the log of container {params['name']}: {exc}")
    client.module.exit_json(changed=False, exists=True, lines=lines)


if __name__ == "__main__":
    main()
