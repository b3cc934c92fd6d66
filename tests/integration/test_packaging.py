"""The collection as users get it: built with ``ansible-galaxy collection build``, installed from
that tarball into an empty collections path with its dependencies from local tarballs (never
Galaxy), and run from that copy only: the module's documentation, deploy, verify, teardown."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import docker
import pytest
import yaml
from playbook import Run, free_port, leftovers, remove_everything, stack_vars, unique_prefix

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
GALAXY = yaml.safe_load((ROOT / "galaxy.yml").read_text())
FQCN = f"{GALAXY['namespace']}.{GALAXY['name']}"
# What must ship, and what belongs to this checkout only.
MUST_SHIP = ["MANIFEST.json", "requirements.txt", "meta/execution-environment.yml", "meta/runtime.yml",
             "playbooks/deploy.yml", "plugins/modules/websocket_check.py", "awx/execution-environment.yml"]
MUST_NOT_SHIP = (".venv/", ".cache/", ".ci/", "hack/", "tests/images/", "requirements/", "Makefile", "ansible.cfg",
                 ".ruff_cache/", ".pytest_cache/", ".ansible/")


def _run(cmd: list[str], env: dict[str, str], cwd: Path, timeout: int = 900) -> Run:
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    return Run(proc.returncode, proc.stdout + proc.stderr)


def _installed_copy(fqcn: str) -> Path:
    """Where the test venv holds a collection (the ``ansible`` package ships community.*)."""
    namespace, name = fqcn.split(".")
    for entry in sys.path:
        path = Path(entry) / "ansible_collections" / namespace / name
        if (path / "MANIFEST.json").is_file():
            return path
    pytest.fail(f"{fqcn} is not installed in the test venv; run `make venv`", pytrace=False)


def _dependency_closure(direct: dict[str, str]) -> dict[str, Path]:
    """Every collection the direct dependencies need, each with its copy in the venv."""
    found: dict[str, Path] = {}
    todo = list(direct)
    while todo:
        fqcn = todo.pop()
        if fqcn not in found:
            found[fqcn] = _installed_copy(fqcn)
            manifest = json.loads((found[fqcn] / "MANIFEST.json").read_text())
            todo.extend(manifest["collection_info"]["dependencies"])
    return found


def _rebuild(copy: Path, work: Path, out: Path, env: dict[str, str]) -> Path:
    """A tarball of an installed collection, built by ansible-galaxy from a galaxy.yml made from its MANIFEST.json."""
    info = json.loads((copy / "MANIFEST.json").read_text())["collection_info"]
    source = work / info["namespace"] / info["name"]
    shutil.copytree(copy, source, ignore=shutil.ignore_patterns("MANIFEST.json", "FILES.json", "__pycache__"))
    (source / "galaxy.yml").write_text(yaml.safe_dump({k: v for k, v in info.items() if v not in (None, "", [])}))
    run = _run([str(BIN / "ansible-galaxy"), "collection", "build", "--output-path", str(out), str(source)], env, work)
    assert run.returncode == 0, run.output
    return out / f"{info['namespace']}-{info['name']}-{info['version']}.tar.gz"


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> dict:
    """The collection built, then installed with its dependencies into an empty collections path."""
    base = tmp_path_factory.mktemp("packaging")
    collections, dist = base / "collections", base / "dist"
    collections.mkdir()
    (base / "ansible.cfg").write_text("[defaults]\ninterpreter_python = auto_silent\nretry_files_enabled = false\n")
    # Nothing from this checkout's configuration or the venv's site-packages: only the installed copy.
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    env.update(ANSIBLE_CONFIG=str(base / "ansible.cfg"), ANSIBLE_COLLECTIONS_PATH=str(collections),
               ANSIBLE_COLLECTIONS_SCAN_SYS_PATH="false", ANSIBLE_NOCOLOR="1")

    run = _run([str(BIN / "ansible-galaxy"), "collection", "build", "--output-path", str(dist), str(ROOT)], env, base)
    assert run.returncode == 0, run.output
    tarball = dist / f"{GALAXY['namespace']}-{GALAXY['name']}-{GALAXY['version']}.tar.gz"
    requirements = [{"name": str(tarball), "type": "file"}]
    for copy in _dependency_closure(GALAXY["dependencies"]).values():
        requirements.append({"name": str(_rebuild(copy, base / "src", dist, env)), "type": "file"})
    (base / "requirements.yml").write_text(yaml.safe_dump({"collections": requirements}))

    # --offline: a dependency missing from the local tarballs fails here instead of reaching Galaxy.
    run = _run([str(BIN / "ansible-galaxy"), "collection", "install", "--offline", "-r", str(base / "requirements.yml"),
                "-p", str(collections)], env, base)
    assert run.returncode == 0, run.output
    return {"base": base, "env": env, "tarball": tarball, "requirements": requirements,
            "path": collections / "ansible_collections"}


def test_tarball_ships_the_collection_and_no_tooling(installed):
    with tarfile.open(installed["tarball"]) as tar:
        names = tar.getnames()
    missing = [n for n in MUST_SHIP if n not in names]
    assert not missing, f"the tarball lacks {missing}"
    stray = [n for n in names if n.startswith(MUST_NOT_SHIP) or f"{n}/".startswith(MUST_NOT_SHIP)]
    assert not stray, f"the tarball ships what belongs to the checkout only: {stray[:20]}"


def test_dependencies_come_from_the_local_tarballs(installed):
    for fqcn in [FQCN, *GALAXY["dependencies"]]:
        namespace, name = fqcn.split(".")
        assert (installed["path"] / namespace / name / "MANIFEST.json").is_file(), f"{fqcn} was not installed"


def test_install_without_a_dependency_tarball_fails_instead_of_reaching_galaxy(installed, tmp_path):
    # The control for the install above: with community.docker's tarball left out, --offline fails.
    kept = [r for r in installed["requirements"] if "community-docker-" not in Path(r["name"]).name]
    assert len(kept) == len(installed["requirements"]) - 1
    (tmp_path / "requirements.yml").write_text(yaml.safe_dump({"collections": kept}))
    # Its own empty path: the one above already holds community.docker, which would satisfy the dependency.
    env = {**installed["env"], "ANSIBLE_COLLECTIONS_PATH": str(tmp_path / "collections")}
    run = _run([str(BIN / "ansible-galaxy"), "collection", "install", "--offline", "-r", str(tmp_path / "requirements.yml"),
                "-p", str(tmp_path / "collections")], env, tmp_path)
    assert run.returncode != 0, run.output
    assert "community.docker" in run.output, run.output


def test_module_documentation_renders_from_the_installed_copy(installed):
    run = _run([str(BIN / "ansible-doc"), f"{FQCN}.websocket_check"], installed["env"], installed["base"])
    assert run.returncode == 0, run.output
    assert str(installed["path"] / "owui" / "realtime" / "plugins" / "modules" / "websocket_check.py") in run.output, (
        f"ansible-doc did not read the installed copy:\n{run.output[:2000]}")
    assert "valkey_container" in run.output and "EXAMPLES" in run.output, run.output[:2000]


@pytest.fixture
def stack(installed, tmp_path):
    engine = docker.from_env()
    prefix = unique_prefix("pkg")
    yield prefix, stack_vars(prefix, tmp_path, free_port()), engine
    # Only if the test failed before its own teardown: remove exactly what carries its prefix.
    remove_everything(engine, prefix)
    engine.close()


def test_deploy_verify_and_teardown_from_the_installed_copy(installed, stack):
    prefix, extra, engine = stack
    inventory = installed["base"] / "inventory.yml"
    inventory.write_text(yaml.safe_dump({"all": {"hosts": {"localhost": {
        "ansible_connection": "local", "ansible_python_interpreter": sys.executable}}}}))

    def playbook(name: str, extra_vars: dict) -> Run:
        return _run([str(BIN / "ansible-playbook"), "-i", str(inventory), f"{FQCN}.{name}", "-e", json.dumps(extra_vars)],
                    installed["env"], installed["base"])

    deployed = playbook("deploy", extra)
    assert deployed.returncode == 0, deployed.output[-4000:]
    assert "Open WebUI uses Valkey for websockets" in deployed.output, deployed.output[-4000:]
    verified = playbook("verify", extra)
    assert verified.returncode == 0, verified.output[-4000:]
    assert verified.changed == 0, verified.output[-4000:]
    assert "Open WebUI uses Valkey for websockets" in verified.output, verified.output[-4000:]

    removed = playbook("teardown", {**extra, "purge": True})
    assert removed.returncode == 0, removed.output[-4000:]
    assert leftovers(engine, prefix) == [], "teardown with purge left objects of this test behind"
