# Copyright (c) owui.realtime contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Jinja test: does a host name the client itself (loopback or unspecified)?"""

from __future__ import annotations

from ansible_collections.owui.realtime.plugins.module_utils.redis_url import is_loopback

DOCUMENTATION = r"""
name: loopback_host
short_description: Tell whether a host names the machine the client runs on
version_added: 0.1.0
description:
  - True for C(localhost) and its variants (C(localhost.localdomain), C(ip6-localhost),
    C(ip6-loopback), C(*.localhost)), every loopback address (C(127.0.0.0/8), C(::1)) and the
    unspecified addresses C(0.0.0.0) and C(::), which a client connecting to them reaches on its
    own machine. Brackets around an IPv6 address are ignored.
  - Inside a container every one of them is the container itself, never the Valkey container
    beside it. The same rule makes the C(owui.realtime.valkey_url) filter refuse a host and
    C(owui.realtime.websocket_check) report the cause C(loopback_url).
options:
  _input:
    description: The host name or address to test.
    type: str
    required: true
"""

EXAMPLES = r"""
- name: Refuse a Valkey URL whose host is the Open WebUI container itself
  ansible.builtin.assert:
    that: open_webui_redis_url | urlsplit('hostname') is not owui.realtime.loopback_host
"""

RETURN = r"""
_value:
  description: Whether the host names the client's own machine.
  type: bool
"""


def loopback_host(value) -> bool:
    return isinstance(value, str) and is_loopback(value)


class TestModule:
    def tests(self):
        return {"loopback_host": loopback_host}
