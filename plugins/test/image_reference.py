# Copyright (c) owui.realtime contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Jinja test: is a string an image reference the Docker engine accepts?"""

from __future__ import annotations

import re

DOCUMENTATION = r"""
name: image_reference
short_description: Tell whether a string is a valid Docker image reference
version_added: 0.1.0
description:
  - True for C([registry[:port]/]repository[:tag][@sha256:digest]) with a lower-case repository,
    as the Docker engine accepts it; false for anything else (spaces, upper case, an empty tag).
options:
  _input:
    description: The string to test.
    type: str
    required: true
"""

EXAMPLES = r"""
- name: Check an image reference
  ansible.builtin.assert:
    that: valkey_image is owui.realtime.image_reference
"""

RETURN = r"""
_value:
  description: Whether the reference is valid.
  type: bool
"""

_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_REFERENCE = re.compile(
    r"^(?:(?P<registry>[A-Za-z0-9.-]+(?::[0-9]+)?)/)?"
    rf"(?P<repository>{_COMPONENT}(?:/{_COMPONENT})*)"
    r"(?::(?P<tag>[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}))?"
    r"(?:@(?P<digest>sha256:[a-f0-9]{64}))?$"
)


def image_reference(value) -> bool:
    if not isinstance(value, str) or len(value) > 255:
        return False
    return _REFERENCE.match(value) is not None


class TestModule:
    def tests(self):
        return {"image_reference": image_reference}
