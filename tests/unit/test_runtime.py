"""meta/runtime.yml's action group holds every module that says it belongs to it, so
module_defaults for owui.realtime.docker (docker_host, TLS) reach all of them; community.docker's
sanity tests check the same for its own group."""

from __future__ import annotations

import ast
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
FRAGMENT = "owui.realtime.docker_api"


def documentation(path: Path) -> dict:
    """A module's DOCUMENTATION, read without importing the module."""
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Assign) and [t.id for t in node.targets if isinstance(t, ast.Name)] == ["DOCUMENTATION"]:
            return yaml.safe_load(ast.literal_eval(node.value))
    raise AssertionError(f"{path} has no DOCUMENTATION")


def modules_in_the_docker_group() -> set[str]:
    found = set()
    for path in sorted((ROOT / "plugins" / "modules").glob("*.py")):
        doc = documentation(path)
        if FRAGMENT in (doc.get("extends_documentation_fragment") or []):
            found.add(path.stem)
    return found


def test_every_module_of_the_docker_action_group_is_listed_and_nothing_else():
    runtime = yaml.safe_load((ROOT / "meta" / "runtime.yml").read_text())
    listed = runtime["action_groups"]["docker"]
    assert len(listed) == len(set(listed)), "a module is listed twice"
    assert set(listed) == modules_in_the_docker_group()


def test_the_fragment_names_the_group_runtime_yml_defines():
    from ansible_collections.owui.realtime.plugins.doc_fragments.docker_api import ModuleDocFragment

    runtime = yaml.safe_load((ROOT / "meta" / "runtime.yml").read_text())
    membership = yaml.safe_load(ModuleDocFragment.DOCUMENTATION)["attributes"]["action_group"]["membership"]
    assert membership == [f"owui.realtime.{group}" for group in runtime["action_groups"]]
