#!/usr/bin/python
# Copyright (c) owui.realtime contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: port_holder
short_description: Find what holds a TCP port on the Docker host
version_added: 0.1.0
description:
  - Tells whether Docker could publish a container on O(address):O(port) of this host, and if not, what
    holds it - a container that publishes the port, or a process that listens on it - so that a deployment
    can refuse a taken port before it changes anything, instead of failing halfway with Docker's
    C(driver failed programming external connectivity).
  - Reads the kernel's listening sockets (C(/proc/net/tcp) and C(/proc/net/tcp6)) of the network namespace
    it runs in, and maps each socket to the processes that hold it through C(/proc/<pid>/fd). A
    C(docker-proxy) listener is reported as the container it forwards to, from O(containers).
  - The bind address matters as the kernel sees it. A holder on the same address or on a wildcard address
    (V(0.0.0.0), V(::)) conflicts; V(127.0.0.1) and V(10.0.0.5) do not; an IPv6 wildcard also takes IPv4.
  - Standard library only; read-only, never reports a change.
options:
  port:
    description: The host port the deployment wants to publish.
    type: int
    required: true
  address:
    description: The host address it wants to publish on, as given to Docker (V(127.0.0.1), V(0.0.0.0), V(::1), ...).
    type: str
    default: 0.0.0.0
  containers:
    description:
      - The engine's running containers as community.docker.docker_host_info returns them with
        O(community.docker.docker_host_info#module:containers=true) and
        O(community.docker.docker_host_info#module:verbose_output=true) (their C(Names), C(Id) and C(Ports)).
      - Without them only processes are seen, and a container's C(docker-proxy) is reported as a process.
    type: list
    elements: dict
    default: []
  own_container:
    description:
      - Name of the deployment's own container for this port. Its binding is not a conflict, so a
        re-deploy passes.
    type: str
    default: ""
  engine_host_name:
    description:
      - The Docker engine's host name (C(host_info.Name) of docker_host_info). When it differs from this
        host's name, the engine runs on another machine and this host's listeners say nothing about it;
        only O(containers) is checked, and a warning says so.
    type: str
    default: ""
notes:
  - Run it as root (C(become)) to name processes of other users; otherwise such a listener is reported
    without a name.
  - Sockets of other network namespaces (containers with their own network) are not seen; Docker publishes
    their ports through C(docker-proxy) or iptables, which O(containers) covers.
extends_documentation_fragment:
  - owui.realtime.read_only
author:
  - owui.realtime maintainers (!UNKNOWN)
"""

EXAMPLES = r"""
- name: List the running containers and the ports they publish
  community.docker.docker_host_info:
    containers: true
    verbose_output: true
  register: host_containers

- name: Find what holds port 3000 on 127.0.0.1
  owui.realtime.port_holder:
    port: 3000
    address: 127.0.0.1
    containers: "{{ host_containers.containers }}"
    engine_host_name: "{{ host_containers.host_info.Name }}"
    own_container: open-webui
  register: port_3000

- name: Refuse the port when something else holds it
  ansible.builtin.assert:
    that: port_3000.free
    fail_msg: "Port 3000 is taken by {{ port_3000.summary }}."
"""

RETURN = r"""
free:
  description: Whether nothing but O(own_container) holds the port on a conflicting address.
  type: bool
  returned: always
held_by_own_container:
  description: Whether O(own_container) publishes the port (a re-deploy).
  type: bool
  returned: always
holders:
  description: What holds the port, each a container or a process.
  type: list
  elements: dict
  returned: always
  contains:
    kind:
      description: C(container) or C(process).
      type: str
    name:
      description: The container's name, or the process's command name (empty when it could not be read).
      type: str
    pid:
      description: The process id, for a process (the first, when several share the socket).
      type: int
    pids:
      description: Every process that holds the socket, for a process (a server and its workers).
      type: list
      elements: int
    address:
      description: The address it holds the port on.
      type: str
    port:
      description: The port, O(port).
      type: int
    id:
      description: The container's id, for a container.
      type: str
    container:
      description:
        - For a process, the container it runs in (a container on the host's network), else empty.
      type: str
    description:
      description: One line for a message, e.g. C(container 'web' (publishes 0.0.0.0:3000)).
      type: str
    remedy:
      description: What frees the port from this holder.
      type: str
  sample:
    - kind: process
      name: python3
      pid: 4242
      pids: [4242]
      address: 0.0.0.0
      port: 3000
      description: process python3 (pid 4242) listening on 0.0.0.0:3000
      remedy: stop python3 (pid 4242)
remedy:
  description:
    - What frees the port, for a message, e.g. C(stop the container web (docker stop web)); empty when free.
  type: str
  returned: always
summary:
  description: The holders' descriptions joined by C(; ); empty when the port is free.
  type: str
  returned: always
processes_checked:
  description: Whether this host's listening sockets were read (false when the engine runs on another machine).
  type: bool
  returned: always
"""

import socket

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.owui.realtime.plugins.module_utils.tcp_listeners import (
    find_holders,
    read_listeners,
    read_processes,
)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            port=dict(type="int", required=True),
            address=dict(type="str", default="0.0.0.0"),
            containers=dict(type="list", elements="dict", default=[]),
            own_container=dict(type="str", default=""),
            engine_host_name=dict(type="str", default=""),
        ),
        supports_check_mode=True,
    )
    params = module.params
    if not 1 <= params["port"] <= 65535:
        module.fail_json(msg=f"port {params['port']} is not a TCP port: use 1 to 65535.")
    engine = params["engine_host_name"]
    local = not engine or engine in (socket.gethostname(), socket.getfqdn())
    listeners, processes = [], {}
    if local:
        listeners = [entry for entry in read_listeners() if entry["port"] == params["port"]]
        processes = read_processes({entry["inode"] for entry in listeners})
    else:
        module.warn(f"The Docker engine runs on '{engine}', not on this host ({socket.gethostname()}): only the "
                    f"engine's containers were checked for port {params['port']}, not that machine's processes.")
    result = find_holders(params["address"], params["port"], listeners, processes, params["containers"],
                          params["own_container"])
    module.exit_json(changed=False, processes_checked=local, **result)


if __name__ == "__main__":
    main()
