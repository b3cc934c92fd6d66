# Copyright (c) owui.realtime contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Libraries a module needs only for some of its options: imported when the module loads, so that a
module without them still runs the rest and fails with missing_required_lib where one is needed."""

from __future__ import annotations

import importlib
import traceback
from types import ModuleType


def optional_import(name: str) -> tuple[ModuleType | None, str | None]:
    """``(module, None)``, or ``(None, traceback)`` when it cannot be imported; the traceback is what
    ``fail_json(msg=missing_required_lib(...), exception=...)`` shows."""
    try:
        return importlib.import_module(name), None
    except ImportError:
        return None, traceback.format_exc()
