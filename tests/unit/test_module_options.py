"""Each module's argument_spec says what its DOCUMENTATION says (type, default, choices, elements,
required), the check ansible-test's validate-modules makes for community.docker; and the
runner's Settings take their defaults from that one argument_spec."""

from __future__ import annotations

import importlib

import pytest
import yaml

from ansible_collections.owui.realtime.plugins.module_utils.check_settings import (
    ARGUMENT_SPEC,
    Settings,
    settings_from,
)
from ansible_collections.owui.realtime.plugins.modules import container_log

KEYS = ("type", "default", "choices", "elements", "required")


def documented_options(module_name: str) -> dict:
    module = importlib.import_module(f"ansible_collections.owui.realtime.plugins.modules.{module_name}")
    return yaml.safe_load(module.DOCUMENTATION)["options"]


def normalised(entry: dict) -> dict:
    values = {key: entry.get(key) for key in KEYS}
    values["required"] = bool(values["required"])
    values["type"] = values["type"] or "str"
    return values


@pytest.mark.parametrize(("module_name", "spec"), [
    ("websocket_check", ARGUMENT_SPEC),
    ("container_log", container_log.ARGUMENT_SPEC),
])
def test_argument_spec_matches_the_documentation(module_name, spec):
    documented = documented_options(module_name)
    assert sorted(spec) == sorted(documented), "options in argument_spec and DOCUMENTATION differ"
    for name, entry in spec.items():
        assert normalised(entry) == normalised(documented[name]), f"option {name}"


def test_secrets_are_no_log_and_nothing_else_needs_to_be():
    assert ARGUMENT_SPEC["valkey_password"]["no_log"] is True
    assert [name for name, entry in ARGUMENT_SPEC.items() if entry.get("no_log")] == ["valkey_password"]


def test_settings_take_their_defaults_from_the_argument_spec():
    settings = settings_from({})
    for name, entry in ARGUMENT_SPEC.items():
        assert getattr(settings, name) == entry.get("default"), name
    # Each Settings gets its own lists, so one run cannot change the next one's defaults.
    settings.require.append("log_line")
    assert settings_from({}).require == ["ping", "valkey_side", "websocket"]


def test_every_option_reaches_the_settings_and_nothing_else_does():
    fields = set(Settings.__dataclass_fields__) - {"valkey_url_parts"}
    assert fields == set(ARGUMENT_SPEC)
    assert settings_from({"docker_host": "unix:///x", "valkey_db": 3}).valkey_db == 3


def test_valkey_url_is_read_once_when_the_settings_are_made():
    assert settings_from({"valkey_url": "rediss://u:p@valkey:6380/2"}).valkey_url_parts["port"] == 6380
    assert settings_from({}).valkey_url_parts is None
    with pytest.raises(ValueError, match="scheme"):
        settings_from({"valkey_url": "http://valkey:6379"})
