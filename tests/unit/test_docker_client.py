"""Reading a container's log through community.docker's client, with the log-driver guard."""

from __future__ import annotations

import pytest

from ansible_collections.owui.realtime.plugins.module_utils.docker_client import (
    APIError,
    LogNotReadable,
    read_log,
)


class FakeClient:
    """Records the private calls read_log makes; answers like the engine would."""

    def __init__(self, error: Exception | None = None) -> None:
        self.error = error
        self.calls: list[tuple] = []

    def _url(self, pathfmt, *args):
        return pathfmt.format(*args)

    def _get(self, url, params=None):
        self.calls.append(("get", url, params))
        if self.error:
            raise self.error
        return "response"

    def _get_result_tty(self, stream, response, tty):
        self.calls.append(("result", stream, response, tty))
        return b"line\n"


def inspect(driver: str | None, tty: bool = False) -> dict:
    info = {"Id": "0f3c", "Name": "/open-webui", "Config": {"Tty": tty}}
    if driver:
        info["HostConfig"] = {"LogConfig": {"Type": driver, "Config": {}}}
    return info


@pytest.mark.parametrize("driver", ["json-file", "local", "journald", None])
def test_local_drivers_are_read_with_the_demultiplexing_call(driver):
    client = FakeClient()
    assert read_log(client, inspect(driver, tty=True), {"tail": "all"}) == b"line\n"
    assert client.calls == [("get", "/containers/0f3c/logs", {"tail": "all"}), ("result", False, "response", True)]


def test_driver_none_is_not_asked_at_all():
    client = FakeClient()
    with pytest.raises(LogNotReadable, match="'open-webui' logs with driver 'none'"):
        read_log(client, inspect("none"), {})
    assert client.calls == []


def test_a_remote_driver_is_tried_and_a_refusal_named():
    refused = APIError("501 Server Error: configured logging driver does not support reading")
    with pytest.raises(LogNotReadable, match=r"driver 'syslog'.*dual logging"):
        read_log(FakeClient(refused), inspect("syslog"), {})
    # With dual logging on, the engine answers for such a driver too.
    assert read_log(FakeClient(), inspect("syslog"), {}) == b"line\n"


def test_an_engine_error_for_a_local_driver_stays_an_engine_error():
    with pytest.raises(APIError):
        read_log(FakeClient(APIError("500 Server Error")), inspect("json-file"), {})
