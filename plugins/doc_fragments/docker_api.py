# Copyright (c) owui.realtime contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The connection to the Docker engine, as this collection's modules that talk to it document it: the
options, and the action group that sets them through module_defaults.

community.docker's own doc fragments became private in its 5.0.0 (and were renamed), so the
modules cannot extend them across 4.x and 5.x. The connection options below are the ones
community.docker's client adds to every module's argument_spec; tests/unit/test_doc_fragment.py
checks them against that argument_spec, so a change on its side shows up as a failing test.
"""

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  docker_host:
    description:
      - Where the Docker API listens - a Unix socket such as V(unix:///var/run/docker.sock), or
        V(tcp://host:2376) for a remote engine (V(https) is used when TLS is on), or V(ssh://user@host).
      - When not given, the E(DOCKER_HOST) environment variable, else the default.
    type: str
    default: unix:///var/run/docker.sock
    aliases: [docker_url]
  tls_hostname:
    description:
      - The host name the Docker engine's TLS certificate must name, when it differs from the host in
        O(docker_host). When not given, E(DOCKER_TLS_HOSTNAME).
    type: str
  api_version:
    description:
      - Docker API version to speak; V(auto) agrees on the newest both sides know. When not given,
        E(DOCKER_API_VERSION).
    type: str
    default: auto
    aliases: [docker_api_version]
  timeout:
    description:
      - Seconds to wait for one answer from the Docker API. When not given, E(DOCKER_TIMEOUT).
    type: int
    default: 60
  ca_path:
    description:
      - CA certificate that verifies the Docker engine's TLS certificate. When not given and
        E(DOCKER_CERT_PATH) is set, C(ca.pem) in that directory.
    type: path
    aliases: [ca_cert, tls_ca_cert, cacert_path]
  client_cert:
    description:
      - Client certificate for the Docker API's TLS. When not given and E(DOCKER_CERT_PATH) is set,
        C(cert.pem) in that directory.
    type: path
    aliases: [tls_client_cert, cert_path]
  client_key:
    description:
      - Key of O(client_cert). When not given and E(DOCKER_CERT_PATH) is set, C(key.pem) in that
        directory.
    type: path
    aliases: [tls_client_key, key_path]
  tls:
    description:
      - Speak TLS to the Docker API without checking the engine's certificate; O(validate_certs) checks
        it and wins when both are on. When not given, E(DOCKER_TLS).
    type: bool
    default: false
  use_ssh_client:
    description:
      - With an V(ssh://) O(docker_host), use the C(ssh) command instead of paramiko.
    type: bool
    default: false
  validate_certs:
    description:
      - Speak TLS to the Docker API and check the engine's certificate. When not given,
        E(DOCKER_TLS_VERIFY).
    type: bool
    default: false
    aliases: [tls_verify]
  debug:
    description:
      - Log what the Docker API client does.
    type: bool
    default: false
attributes:
  action_group:
    description: Use C(group/owui.realtime.docker) in C(module_defaults) to set the Docker connection for this module.
    support: full
    membership:
      - owui.realtime.docker
notes:
  - The connection to the Docker engine goes through community.docker's API client. To set
    O(docker_host) and TLS once for a play, give the same C(module_defaults) to
    C(group/community.docker.docker) (community.docker's modules) and C(group/owui.realtime.docker)
    (this collection's).
requirements:
  - requests, on the host the module runs on
  - community.docker 4.8 or later (its API client)
"""
