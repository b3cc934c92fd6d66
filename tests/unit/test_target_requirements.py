"""The target's Python needs: version floors, verdicts and the message that names the fix."""

from __future__ import annotations

import pytest
import yaml

from ansible_collections.owui.realtime.plugins.module_utils import target_requirements as tr
from ansible_collections.owui.realtime.plugins.modules import python_requirements

REQUESTS = next(lib for lib in tr.LIBRARIES if lib.name == "requests")


@pytest.mark.parametrize(("text", "expected"), [
    ("2.28.1", (2, 28, 1)), ("5.7.2+dfsg", (5, 7, 2)), ("1.2", (1, 2)), ("", ()), ("dev", ())])
def test_version_tuple_reads_the_leading_release_numbers(text, expected):
    assert tr.version_tuple(text) == expected


def test_a_release_at_or_above_the_floor_is_accepted():
    assert tr.assess(REQUESTS, "2.28.1", None)["ok"]
    assert tr.assess(REQUESTS, "2.28", None)["ok"]
    assert tr.assess(REQUESTS, "3.0", None)["ok"]


def test_an_older_release_is_refused_with_both_versions():
    verdict = tr.assess(REQUESTS, "2.25.1", None)
    assert not verdict["ok"]
    assert verdict["problem"] == "version 2.25.1 is older than 2.28"


def test_a_missing_or_broken_library_is_refused_with_the_reason():
    assert tr.assess(REQUESTS, None, None)["problem"] == "not installed"
    broken = tr.assess(REQUESTS, None, "ImportError: cannot import name 'x'")
    assert not broken["ok"]
    assert "cannot import name" in broken["problem"]


@pytest.mark.parametrize(("os_release", "manager"), [
    ('ID=debian\nVERSION_ID="12"', "apt"),
    ('ID=ubuntu\nID_LIKE=debian', "apt"),
    ('ID=linuxmint\nID_LIKE="ubuntu debian"', "apt"),
    ('ID="rocky"\nID_LIKE="rhel centos fedora"', None),
    ("", None),
])
def test_apt_is_used_only_on_debian_and_its_derivatives(os_release, manager):
    assert tr.package_manager(tr.parse_os_release(os_release)) == manager


def test_the_message_names_each_library_the_python_and_both_fixes():
    verdicts = [tr.assess(lib, None, None) for lib in tr.LIBRARIES]
    message = tr.summary("/usr/bin/python3", verdicts, "apt")
    for lib in tr.LIBRARIES:
        assert f"{lib.name} >= {lib.minimum}" in message
        assert lib.apt in message
    assert "/usr/bin/python3" in message
    assert "apt-get install python3-requests python3-socketio python3-websocket" in message
    assert "/usr/bin/python3 -m pip install 'requests>=2.28'" in message


def test_nothing_to_say_when_everything_is_there():
    verdicts = [tr.assess(lib, lib.minimum, None) for lib in tr.LIBRARIES]
    assert tr.summary("/usr/bin/python3", verdicts, "apt") == ""


def test_without_apt_the_message_does_not_offer_apt_get():
    message = tr.summary("/usr/bin/python3", [tr.assess(REQUESTS, None, None)], None)
    assert "apt-get" not in message
    assert "python3-requests on Debian" in message


def test_the_module_documents_the_floors_it_checks():
    notes = " ".join(yaml.safe_load(python_requirements.DOCUMENTATION)["notes"])
    for lib in tr.LIBRARIES + tr.OPTIONAL:
        assert f"{lib.name} >= {lib.minimum}" in notes
