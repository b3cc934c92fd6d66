# Copyright (c) owui.realtime contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one place where a Valkey connection URL is assembled."""

from __future__ import annotations

from urllib.parse import quote

from ansible.errors import AnsibleFilterError

from ansible_collections.owui.realtime.plugins.module_utils.redis_url import is_loopback

DOCUMENTATION = r"""
name: valkey_url
short_description: Build the URL a client uses to reach Valkey
version_added: 0.1.0
description:
  - Assembles a C(redis://) or C(rediss://) URL from its parts, percent-encoding the user name
    and password, so that every role passes on the same string instead of building its own.
  - Refuses loopback hosts such as C(127.0.0.1), C(localhost) and C(::1); inside a container they
    name the container itself, never the Valkey container beside it.
positional: _input
options:
  _input:
    description: Connection parts.
    type: dict
    required: true
    suboptions:
      host:
        description: Host name or address clients resolve, normally the Valkey network alias.
        type: str
        required: true
      port:
        description: TCP port.
        type: int
        default: 6379
      username:
        description: ACL user name, omitted when empty.
        type: str
      password:
        description: Password, omitted when empty.
        type: str
      tls:
        description: Use C(rediss://).
        type: bool
        default: false
  db:
    description: Database number appended as the URL path.
    type: int
    default: 0
  ca_certs:
    description:
      - Path, as the client sees it, of the CA certificate that verifies Valkey's certificate. Added as the
        C(ssl_ca_certs) query parameter, which redis-py passes to its TLS connection. Only with O(_input.tls).
    type: str
"""

EXAMPLES = r"""
- name: Build the websocket manager URL
  ansible.builtin.set_fact:
    __open_webui_redis_url: "{{ {'host': 'redis', 'port': 6379, 'username': 'open-webui', 'password': pw} | owui.realtime.valkey_url(db=1) }}"

- name: Build a TLS URL whose client trusts a private CA
  ansible.builtin.set_fact:
    __open_webui_redis_url: "{{ {'host': 'redis', 'tls': true} | owui.realtime.valkey_url(db=1, ca_certs='/etc/owui-realtime/valkey-ca.crt') }}"
"""

RETURN = r"""
_value:
  description:
    - The URL, for example C(redis://open-webui:s%40cret@redis:6379/1) or
      C(rediss://redis:6379/1?ssl_ca_certs=%2Fetc%2Fowui-realtime%2Fvalkey-ca.crt).
  type: str
"""


def valkey_url(parts: dict, db: int = 0, ca_certs: str | None = None) -> str:
    if not isinstance(parts, dict):
        raise AnsibleFilterError(f"valkey_url expects a dict of connection parts, got {type(parts).__name__}")
    host = str(parts.get("host") or "")
    if not host:
        raise AnsibleFilterError("valkey_url: 'host' is empty; give the Valkey container's network alias")
    if is_loopback(host):
        raise AnsibleFilterError(
            f"valkey_url: host '{host}' is a loopback address; inside the Open WebUI container it names "
            "that container, not Valkey. Use the Valkey container's network alias (for example 'redis')."
        )
    port = int(parts.get("port") or 6379)
    if not 1 <= port <= 65535:
        raise AnsibleFilterError(f"valkey_url: port {port} is out of range 1-65535")
    db = int(db)
    if db < 0:
        raise AnsibleFilterError(f"valkey_url: db {db} must be 0 or more")
    scheme = "rediss" if parts.get("tls") else "redis"
    user = quote(str(parts.get("username") or ""), safe="")
    password = quote(str(parts.get("password") or ""), safe="")
    auth = ""
    if user or password:
        auth = f"{user}:{password}@" if password else f"{user}@"
    query = ""
    if ca_certs:
        if scheme != "rediss":
            raise AnsibleFilterError("valkey_url: ca_certs is only for TLS; set 'tls' to true in the connection parts")
        query = "?ssl_ca_certs=" + quote(str(ca_certs), safe="")
    shown_host = f"[{host}]" if ":" in host and not host.startswith("[") else host
    return f"{scheme}://{auth}{shown_host}:{port}/{db}{query}"


class FilterModule:
    def filters(self):
        return {"valkey_url": valkey_url}
