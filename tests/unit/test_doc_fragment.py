"""The docker_api doc fragment documents the connection options community.docker's client really
adds to every module (name, type, default, aliases), in 4.x and 5.x alike."""

from __future__ import annotations

import yaml

from ansible_collections.owui.realtime.plugins.doc_fragments.docker_api import ModuleDocFragment
from ansible_collections.owui.realtime.plugins.module_utils.docker_client import DOCKER_COMMON_ARGS


def test_fragment_options_are_the_clients_connection_options():
    documented = yaml.safe_load(ModuleDocFragment.DOCUMENTATION)["options"]
    assert sorted(documented) == sorted(DOCKER_COMMON_ARGS)
    for name, spec in DOCKER_COMMON_ARGS.items():
        doc = documented[name]
        assert doc.get("type", "str") == spec.get("type", "str"), name
        assert doc.get("default") == spec.get("default"), name
        assert sorted(doc.get("aliases") or []) == sorted(spec.get("aliases") or []), name
