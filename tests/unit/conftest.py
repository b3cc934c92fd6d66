"""Make `ansible_collections.owui.realtime` importable the way Ansible imports it."""

from __future__ import annotations

import sys
from pathlib import Path

# `make setup` links the checkout into .cache/collections/ansible_collections/owui/realtime;
# community.docker comes from the venv's `ansible` package, merged as a namespace package.
COLLECTIONS = Path(__file__).resolve().parents[2] / ".cache" / "collections"
if str(COLLECTIONS) not in sys.path:
    sys.path.insert(0, str(COLLECTIONS))
