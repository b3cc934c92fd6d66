"""owui.realtime.container_log, which the health wait prints when a container never gets healthy."""

from __future__ import annotations

import time

import pytest
from playbook import VALKEY_IMAGE, run_module

pytestmark = pytest.mark.integration

SCRIPT = "echo out-$(cat /proc/sys/kernel/random/uuid | cut -c1-8); echo err-line >&2; echo last-line; sleep 300"


def _lines(args: dict) -> list[str]:
    result, output = run_module("container_log", args)
    assert result is not None and not result.get("failed"), output[-3000:]
    return result["lines"]


def test_reads_both_streams_and_the_last_lines_only(scratch, require_image):
    container = scratch.container("logs", require_image(VALKEY_IMAGE), entrypoint=["sh", "-c", SCRIPT])
    time.sleep(2)
    everything = _lines({"name": container.name, "tail": 0})
    # The engine may interleave stdout and stderr in either order.
    assert sorted(line.split("-")[0] for line in everything) == ["err", "last", "out"], everything
    assert _lines({"name": container.name, "tail": 1}) == [everything[-1]]


def test_since_start_leaves_out_an_earlier_run(scratch, require_image):
    container = scratch.container("restart", require_image(VALKEY_IMAGE), entrypoint=["sh", "-c", SCRIPT])
    time.sleep(2)
    first_run = _lines({"name": container.name, "tail": 0})
    time.sleep(1)  # the cut is in whole seconds
    container.restart(timeout=0)
    time.sleep(2)
    all_runs = _lines({"name": container.name, "tail": 0})
    this_run = _lines({"name": container.name, "tail": 0, "since_start": True})
    assert len(all_runs) == 6, all_runs
    assert len(this_run) == 3, this_run
    # Each run prints a fresh random word, so the earlier run's word must be missing.
    earlier = next(line for line in first_run if line.startswith("out-"))
    assert earlier in all_runs and earlier not in this_run


def test_a_missing_container_is_reported_not_failed():
    result, output = run_module("container_log", {"name": "owui-it-no-such-container"})
    assert result is not None and not result.get("failed"), output[-3000:]
    assert result["exists"] is False and result["lines"] == []
