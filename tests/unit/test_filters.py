"""The valkey_url filter, the loopback_host and image_reference tests: the one place URLs are
built, the one loopback rule, and what counts as an image reference."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.owui.realtime.plugins.filter.valkey_url import valkey_url
from ansible_collections.owui.realtime.plugins.module_utils.open_webui_container import config_causes, open_webui_settings
from ansible_collections.owui.realtime.plugins.module_utils.redis_url import is_loopback
from ansible_collections.owui.realtime.plugins.test.image_reference import image_reference
from ansible_collections.owui.realtime.plugins.test.loopback_host import loopback_host


def test_plain_url_for_the_network_alias():
    assert valkey_url({"host": "redis", "port": 6379}, db=1) == "redis://redis:6379/1"


def test_credentials_are_percent_encoded():
    url = valkey_url({"host": "redis", "username": "open-webui", "password": "p@ss:w/rd%"}, db=1)
    assert url == "redis://open-webui:p%40ss%3Aw%2Frd%25@redis:6379/1"


def test_tls_uses_rediss():
    assert valkey_url({"host": "redis", "tls": True, "password": "x"}).startswith("rediss://:x@redis:6379/")


def test_ca_certs_becomes_a_query_redis_py_understands():
    from redis.connection import parse_url

    url = valkey_url({"host": "redis", "tls": True, "username": "open-webui", "password": "p@ss"}, db=1,
                     ca_certs="/etc/owui-realtime/valkey ca.crt")
    assert url == "rediss://open-webui:p%40ss@redis:6379/1?ssl_ca_certs=%2Fetc%2Fowui-realtime%2Fvalkey%20ca.crt"
    parsed = parse_url(url)
    assert parsed["ssl_ca_certs"] == "/etc/owui-realtime/valkey ca.crt"
    assert (parsed["username"], parsed["password"], parsed["db"]) == ("open-webui", "p@ss", 1)


def test_ca_certs_without_tls_is_refused():
    with pytest.raises(AnsibleFilterError, match="only for TLS"):
        valkey_url({"host": "redis"}, ca_certs="/ca.crt")


def test_ipv6_hosts_are_bracketed():
    assert valkey_url({"host": "fd00::5"}, db=0) == "redis://[fd00::5]:6379/0"


LOOPBACK = ["127.0.0.1", "127.1.2.3", "localhost", "LOCALHOST", "localhost.localdomain", "ip6-loopback", "::1", "[::1]",
            "app.localhost", "0.0.0.0", "::"]
NOT_LOOPBACK = ["redis", "redis-valkey", "10.0.0.5", "fd00::5", "valkey.example.org", "localhost-valkey"]


def loopback_url_cause(host: str) -> bool:
    shown = f"[{host.strip('[]')}]" if ":" in host else host
    env = {"WEBSOCKET_MANAGER": "redis", "WEBSOCKET_REDIS_URL": f"redis://{shown}:6379/1"}
    return any(c["id"] == "loopback_url" for c in config_causes("o", open_webui_settings(env), 1, "open-webui"))


@pytest.mark.parametrize("host", LOOPBACK)
def test_loopback_hosts_are_refused_by_the_filter_the_test_and_the_module(host):
    assert is_loopback(host)
    assert loopback_host(host)
    assert loopback_url_cause(host)
    with pytest.raises(AnsibleFilterError, match="loopback"):
        valkey_url({"host": host})


@pytest.mark.parametrize("host", NOT_LOOPBACK)
def test_other_hosts_pass_the_filter_the_test_and_the_module(host):
    assert not is_loopback(host)
    assert not loopback_host(host)
    assert not loopback_url_cause(host)
    assert valkey_url({"host": host})


@pytest.mark.parametrize("value", [None, 127, ["localhost"]])
def test_loopback_host_is_false_for_what_is_not_a_host(value):
    assert loopback_host(value) is False


@pytest.mark.parametrize("parts", [{"host": ""}, {"host": "redis", "port": 70000}, "redis://redis"])
def test_bad_parts_are_refused(parts):
    with pytest.raises(AnsibleFilterError):
        valkey_url(parts)


@pytest.mark.parametrize("db", [-1, "-3"])
def test_a_negative_db_is_refused(db):
    with pytest.raises(AnsibleFilterError, match="must be 0 or more"):
        valkey_url({"host": "redis"}, db=db)
    assert valkey_url({"host": "redis"}, db=0) == "redis://redis:6379/0"


@pytest.mark.parametrize("ref", [
    "docker.io/valkey/valkey:8.0.1-alpine",
    "ghcr.io/open-webui/open-webui:main",
    "localhost/owui-test/valkey:8.1",
    "registry.local:5000/team/open-webui:v0.6.5",
    "valkey/valkey@sha256:" + "a" * 64,
    "valkey",
])
def test_valid_image_references(ref):
    assert image_reference(ref)


@pytest.mark.parametrize("ref", [
    "Valkey/Valkey:8",
    "valkey/valkey:8 bad",
    "ghcr.io/open-webui/open-webui:",
    "valkey@sha256:short",
    "",
    None,
])
def test_invalid_image_references(ref):
    assert not image_reference(ref)
