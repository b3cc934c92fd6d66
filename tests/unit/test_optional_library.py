"""optional_import hands back the module, or the traceback missing_required_lib shows when it is absent."""

from __future__ import annotations

import json

from ansible_collections.owui.realtime.plugins.module_utils.optional_library import optional_import


def test_an_importable_library_comes_back_without_an_error():
    module, error = optional_import("json")
    assert module is json
    assert error is None


def test_a_missing_library_comes_back_as_its_traceback():
    module, error = optional_import("owui_realtime_no_such_library")
    assert module is None
    assert "ModuleNotFoundError" in error
    assert "owui_realtime_no_such_library" in error
