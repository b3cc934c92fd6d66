# Copyright (c) owui.realtime contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The options of the websocket check: the argument_spec the module hands to Ansible, and the
Settings the runner reads, built from the module's parameters.

The defaults live in ARGUMENT_SPEC only (and, for ansible-doc, in the module's DOCUMENTATION; a
unit test keeps the two equal).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from ansible_collections.owui.realtime.plugins.module_utils.redis_url import parse_redis_url
from ansible_collections.owui.realtime.plugins.module_utils.verdict import REQUIRE_CHOICES

ARGUMENT_SPEC: dict[str, dict[str, Any]] = {
    "valkey_container": {"type": "str", "default": "redis-valkey", "no_log": False},
    "valkey_port": {"type": "int", "no_log": False},
    "valkey_tls": {"type": "bool", "no_log": False},
    "valkey_tls_ca_cert": {"type": "str", "no_log": False},
    "valkey_url": {"type": "str", "no_log": False},
    "valkey_username": {"type": "str", "no_log": False},
    "valkey_password": {"type": "str", "no_log": True},
    "valkey_db": {"type": "int", "default": 1, "no_log": False},
    "open_webui_containers": {"type": "list", "elements": "str", "default": ["open-webui"]},
    "open_webui_url": {"type": "str"},
    "open_webui_port": {"type": "int", "default": 8080},
    "open_webui_urls": {"type": "list", "elements": "str", "default": []},
    "open_webui_workers": {"type": "int", "default": 1},
    "delivery": {"type": "bool"},
    "delivery_timeout": {"type": "int", "default": 5},
    "key_prefix": {"type": "str", "default": "open-webui", "no_log": False},
    "require": {"type": "list", "elements": "str", "choices": list(REQUIRE_CHOICES),
                "default": ["ping", "valkey_side", "websocket"]},
    "wait_timeout": {"type": "int", "default": 60},
    "interval": {"type": "int", "default": 2},
}


@dataclass
class Settings:
    """What the runner is asked to check; one field per option of ARGUMENT_SPEC."""

    valkey_container: str
    valkey_url: str | None
    valkey_username: str | None
    valkey_password: str | None
    valkey_db: int
    valkey_port: int | None
    valkey_tls: bool | None
    valkey_tls_ca_cert: str | None
    open_webui_containers: list[str]
    open_webui_url: str | None
    open_webui_port: int
    open_webui_urls: list[str]
    open_webui_workers: int
    delivery: bool | None
    delivery_timeout: float
    key_prefix: str
    require: list[str]
    wait_timeout: float
    interval: float
    # valkey_url read once, here: the module refuses what does not parse, the runner uses the parts.
    valkey_url_parts: dict[str, Any] | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        self.valkey_url_parts = parse_redis_url(self.valkey_url) if self.valkey_url else None


def settings_from(params: Mapping[str, Any]) -> Settings:
    """Settings from the module's parameters. An option missing from `params` takes its default
    from ARGUMENT_SPEC, as AnsibleModule would give it; keys that are not options (the Docker
    connection's) are ignored. Raises ValueError when valkey_url cannot be read."""
    values = {}
    for item in fields(Settings):
        if not item.init:
            continue
        if item.name in params:
            values[item.name] = params[item.name]
        else:
            values[item.name] = copy.deepcopy(ARGUMENT_SPEC[item.name].get("default"))
    return Settings(**values)
