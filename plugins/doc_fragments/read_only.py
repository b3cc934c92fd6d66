# Copyright (c) owui.realtime contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The attributes of a module that only reads: it runs the same in check mode, has nothing to diff
and never reports a change."""

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options: {}
attributes:
  check_mode:
    description: Whether the module runs in check mode, and what it reports there.
    support: full
    details:
      - The module only reads; it runs the same in check mode.
  diff_mode:
    description: Whether the module reports a diff.
    support: N/A
    details:
      - The module only reads.
  idempotent:
    description: Whether a second run with the same arguments reports no change.
    support: full
    details:
      - The module only reads; RV(ignore:changed) is always V(false).
"""
