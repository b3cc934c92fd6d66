#!/usr/bin/python
# Copyright (c) owui.realtime contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: python_requirements
short_description: Report whether the target's Python has the libraries this collection's modules import
version_added: 0.2.0
description:
  - Imports each Python library that community.docker's modules and C(owui.realtime.websocket_check)
    need on the target host, with the Python that Ansible runs there, and compares its version with the
    oldest release this collection is tested with.
  - Reports the missing ones with the distribution packages that bring them, so that a play can install
    them or stop with a message that names the library, the host and the Python.
  - Needs nothing beyond Python's standard library. Read-only; never reports a change.
extends_documentation_fragment:
  - owui.realtime.read_only
options:
  include_optional:
    description:
      - Also require the libraries that only optional features import (redis-py, for
        C(owui.realtime.websocket_check)'s O(owui.realtime.websocket_check#module:valkey_url)).
    type: bool
    default: false
notes:
  - "Required on targets, tested at these releases (Debian 12's): requests >= 2.28, python-socketio >= 5.7,
    websocket-client >= 1.2; optional: redis >= 4.3."
author:
  - owui.realtime maintainers (!UNKNOWN)
"""

EXAMPLES = r"""
- name: Find which Python libraries the modules need on this host
  owui.realtime.python_requirements:
  register: python_needs

- name: Install what is missing from Debian's packages
  ansible.builtin.apt:
    name: "{{ python_needs.packages }}"
  when: python_needs.missing | length > 0 and python_needs.package_manager == 'apt'
"""

RETURN = r"""
python:
  description: The interpreter the module ran with, and its version.
  type: dict
  returned: always
  sample: {"executable": "/usr/bin/python3", "version": "3.11.2"}
libraries:
  description: One entry per library, with C(name), C(module), C(minimum), C(version) (null when absent),
    C(package) (the Debian and Ubuntu package), C(needed_for), C(ok) and C(problem).
  type: list
  elements: dict
  returned: always
missing:
  description: Names of the libraries that are absent, not importable or older than their minimum.
  type: list
  elements: str
  returned: always
  sample: ["requests"]
packages:
  description: Distribution packages that bring the missing libraries (Debian and Ubuntu names).
  type: list
  elements: str
  returned: always
  sample: ["python3-requests"]
package_manager:
  description: C(apt) on Debian, Ubuntu and their derivatives, else null.
  type: str
  returned: always
msg:
  description: What is missing, on which Python, and how to install it; empty when nothing is.
  type: str
  returned: always
"""

import importlib
import platform
import sys

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.owui.realtime.plugins.module_utils.target_requirements import (
    LIBRARIES,
    OPTIONAL,
    assess,
    package_manager,
    parse_os_release,
    summary,
)

try:
    from importlib import metadata
except ImportError:  # Python < 3.8 has no importlib.metadata; every version then reads as unknown
    metadata = None


def probe(library):
    """(version or None, import error text or None) as the target's Python sees the library."""
    try:
        importlib.import_module(library.module)
    except ImportError as exc:
        if getattr(exc, "name", None) == library.module:
            return None, None  # not installed at all
        return None, f"{type(exc).__name__}: {exc}"
    except Exception as exc:  # an installed but broken library raises more than ImportError
        return None, f"{type(exc).__name__}: {exc}"
    try:
        return metadata.version(library.name), None
    except Exception:
        return getattr(sys.modules.get(library.module), "__version__", None), None


def read_os_release():
    for path in ("/etc/os-release", "/usr/lib/os-release"):
        try:
            with open(path, encoding="utf-8") as handle:
                return parse_os_release(handle.read())
        except OSError:
            continue
    return {}


def main():
    module = AnsibleModule(
        argument_spec={"include_optional": {"type": "bool", "default": False}},
        supports_check_mode=True,
    )
    wanted = LIBRARIES + (OPTIONAL if module.params["include_optional"] else ())
    verdicts = [assess(library, *probe(library)) for library in wanted]
    manager = package_manager(read_os_release())
    missing = [v for v in verdicts if not v["ok"]]
    module.exit_json(
        changed=False,
        python={"executable": sys.executable, "version": platform.python_version()},
        libraries=verdicts,
        missing=[v["name"] for v in missing],
        packages=[v["package"] for v in missing],
        package_manager=manager,
        msg=summary(sys.executable, verdicts, manager),
    )


if __name__ == "__main__":
    main()
