#!/usr/bin/env bash
# `make sanity`: ansible-test sanity and antsibull-docs' documentation lint, on the collection as it
# ships.
#
# Both tools want the collection at .../ansible_collections/<namespace>/<name>, so this copies it,
# fresh each run, to .cache/sanity/ansible_collections/owui/realtime: the files git knows of (tracked,
# and untracked ones it does not ignore, so a working tree is tested as it is) less galaxy.yml's
# build_ignore (this repository's own tooling - hack/, tests/images/, requirements/ - which ruff and
# the test suite check, and which does not ship). The collections it depends on (community.docker,
# community.crypto and theirs) are copied beside it from the venv's `ansible` package. Copies, not
# links: antsibull-docs copies each collection again with `git ls-files` when a git repository lies
# above it, and a link would lead into the venv, which the worktree's git ignores.
#
# ansible-test builds one venv per test under ~/.ansible/test/venv, with packages from PyPI, and
# seeds each with pip by a get-pip script it downloads from ci-files.testing.ansible.com, which this
# machine cannot reach. The stand-in written below does that job from here: ensurepip's bundled pip
# installs the pip version ansible-test asks for from PyPI. A real get-pip script already cached
# there is left alone.
#
# Tests not run, and why:
#   shellcheck - only when the shellcheck command is missing (`make setup` does not install it): the
#                shipped collection has no shell scripts today (hack/ and tests/images/ do not ship),
#                and ansible-test would skip it anyway, with a mere warning.
#
# Arguments go to ansible-test sanity (for example --test pep8).
set -Eeuo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PYTHON_VERSION=3.11
PYTHON=$ROOT/.venv/bin/python
SITE=$ROOT/.venv/lib/python$PYTHON_VERSION/site-packages/ansible_collections
TREE=$ROOT/.cache/sanity
COPY=$TREE/ansible_collections/owui/realtime
STAND_IN_MARK='Stand-in for get-pip.py written by owui.realtime'
say() { printf '[sanity] %s\n' "$*"; }
die() { printf '[sanity] FAILED: %s\n' "$*" >&2; exit 1; }

for tool in ansible-test antsibull-docs; do
  command -v "$tool" >/dev/null || die "$tool is not on PATH: run this through 'make sanity' (which sets up the venv)"
done
[ -x "$PYTHON" ] && [ -d "$SITE" ] || die "$SITE is missing: 'make venv' installs the ansible package that brings the dependencies"

# ---- the collection, and the collections it depends on -------------------------------------------
rm -rf --one-file-system "$TREE"
mkdir -p "$COPY"
git -C "$ROOT" ls-files -z --cached --others --exclude-standard | "$PYTHON" -c '
import fnmatch, os, sys, yaml
root = sys.argv[1]
ignore = yaml.safe_load(open(os.path.join(root, "galaxy.yml")))["build_ignore"]
# As ansible-galaxy collection build: a pattern that matches a directory leaves out all below it.
# .venv and .cache are in build_ignore; .venv is a symlink in some worktrees, which git lists.
def shipped(path):
    parts = path.split("/")
    prefixes = ["/".join(parts[:n]) for n in range(1, len(parts) + 1)]
    return not any(fnmatch.fnmatch(p, pattern) for p in prefixes for pattern in ignore)
for name in sys.stdin.buffer.read().split(b"\0"):
    path = name.decode()
    if path and shipped(path) and os.path.lexists(os.path.join(root, path)):
        sys.stdout.write(path + "\0")
' "$ROOT" | tar -C "$ROOT" --null -T - -cf - | tar -C "$COPY" -xf -
# Both tools list a collection's files with git when they find a .git at or above it; without these
# they would find the worktree's, which ignores .cache/, and see nothing.
git -C "$TREE" init -q
git -C "$COPY" init -q

deps=$("$PYTHON" -c '
import json, os, sys, yaml
site, galaxy = sys.argv[1:]
todo, seen = sorted(yaml.safe_load(open(galaxy)).get("dependencies") or {}), []
while todo:
    name = todo.pop(0)
    if name in seen:
        continue
    seen.append(name)
    manifest = os.path.join(site, *name.split("."), "MANIFEST.json")
    if os.path.exists(manifest):
        todo += sorted(json.load(open(manifest))["collection_info"].get("dependencies") or {})
print(" ".join(seen))
' "$SITE" "$COPY/galaxy.yml")
for dep in $deps; do
  src=$SITE/${dep/.//}
  [ -d "$src" ] || die "dependency $dep is not in $SITE: 'make venv' installs it with the ansible package"
  mkdir -p "$TREE/ansible_collections/${dep%%.*}"
  cp -R "$src" "$TREE/ansible_collections/${dep/.//}"
done
say "copied $(find "$COPY" -type f -not -path '*/.git/*' | wc -l) files of owui.realtime, and $deps"

# ---- the offline stand-in for the get-pip script (see the header) --------------------------------
pip_version=$("$PYTHON" -c '
from ansible_test._internal.host_configs import NativePythonConfig
from ansible_test._internal.python_requirements import get_venv_packages
print(get_venv_packages(NativePythonConfig(version="'"$PYTHON_VERSION"'", path=""))["pip"])')
get_pip=$HOME/.ansible/test/cache/get_pip_${pip_version//./_}.py
if [ ! -e "$get_pip" ] || grep -q "$STAND_IN_MARK" "$get_pip"; then
  mkdir -p "$(dirname "$get_pip")"
  cat >"$get_pip.tmp" <<EOF
"""$STAND_IN_MARK's hack/sanity.sh: ensurepip, then pip from PyPI."""
import subprocess
import sys

# In a child process: ensurepip sets PIP_CONFIG_FILE=/dev/null in its own process, which would hide
# the machine's pip configuration (index, certificates) from the install below.
subprocess.check_call([sys.executable, "-m", "ensurepip", "--default-pip"])
options = [arg for arg in sys.argv[1:] if arg not in ("--no-setuptools", "--no-wheel")]
subprocess.check_call([sys.executable, "-m", "pip", "install", "--quiet", *options])
if "--no-setuptools" in sys.argv:
    subprocess.check_call([sys.executable, "-m", "pip", "uninstall", "--quiet", "--yes", "setuptools"])
EOF
  mv "$get_pip.tmp" "$get_pip"
fi

# ---- the tests ------------------------------------------------------------------------------------
# Both tools find collections in the tree built above; the repository's ansible.cfg and collections
# path (.cache/collections, a link to the working tree) must not get in between.
cd "$COPY"
unset ANSIBLE_CONFIG ANSIBLE_COLLECTIONS_PATHS
export ANSIBLE_COLLECTIONS_PATH=$TREE ANSIBLE_COLLECTIONS_SCAN_SYS_PATH=false

skip=()
if ! command -v shellcheck >/dev/null; then
  say "skipping ansible-test's shellcheck test: no shellcheck command (see the header)"
  skip=(--skip-test shellcheck)
fi

start=$SECONDS
say "ansible-test sanity (venvs cached under ~/.ansible/test/venv)"
ansible-test sanity --local --python "$PYTHON_VERSION" --color no "${skip[@]}" "$@"
say "ansible-test sanity passed in $((SECONDS - start)) s"

start=$SECONDS
say "antsibull-docs lint-collection-docs (modules, plugins, roles' argument_specs)"
antsibull-docs lint-collection-docs --plugin-docs --check-extra-docs-refs \
  --validate-collection-refs dependent --disallow-unknown-collection-refs .
say "antsibull-docs lint-collection-docs passed in $((SECONDS - start)) s"
