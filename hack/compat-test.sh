#!/usr/bin/env bash
# `make compat-test`: the collection on the newest Ansible, as its users on current releases have it.
#
# A Debian trixie root file system (Python 3.13; recipe tests/hosts/controller-trixie) gets a clean
# clone of HEAD and a venv with requirements/compat.in (ansible 14: ansible-core 2.21,
# community.docker 5). There the collection is built and installed from its tarball, then:
#   - the unit tests run against the installed copy,
#   - ansible-doc renders every module and role,
#   - molecule's default scenario deploys, re-deploys (changed=0) and verifies over SSH on the test
#     host m-default, which this script starts (and pushes the images for) and stops outside the root
#     file system.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=hack/lib/chroot.sh
. "$ROOT/hack/lib/chroot.sh"
LOG_DIR=${OWUI_COMPAT_LOG_DIR:-/var/log/owui-realtime}
HOST=m-default
WORK=
say() { printf '[compat-test] %s\n' "$*"; }
die() { printf '[compat-test] FAILED: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "needs root (chroot, mounts, test hosts)"
eval "$("$ROOT/hack/images.sh" env)"

cleanup() {
  "$ROOT/hack/testhost.sh" down "$HOST" >/dev/null 2>&1 || true
  "$ROOT/hack/testhost.sh" registry-stop >/dev/null 2>&1 || true
  [ -n "$WORK" ] && rm -rf --one-file-system "$WORK"
}
trap cleanup EXIT

WORK=$(mktemp -d /var/tmp/owui-compat-test.XXXXXX)
rootfs=$(chroot_from_recipe controller-trixie "$WORK")
say "Debian trixie controller with $(chroot "$rootfs" python3 --version), clean clone of $(git -C "$ROOT" rev-parse --short HEAD)"

"$ROOT/hack/testhost.sh" up "$HOST" 1
"$ROOT/hack/testhost.sh" publish "$OWUI_TEST_VALKEY_IMAGE" "$OWUI_TEST_OPEN_WEBUI_IMAGE" >/dev/null

log="$LOG_DIR/compat-test.log"
mkdir -p "$LOG_DIR"
say "venv, build and install, unit tests, ansible-doc, molecule default (log: $log)"
start=$SECONDS
export CHROOT_BINDS=/var/lib/owui-realtime/testhosts
export CHROOT_ENV="OWUI_TESTHOST_STARTED_BY_CALLER=1 OWUI_TEST_VALKEY_IMAGE=$OWUI_TEST_VALKEY_IMAGE OWUI_TEST_OPEN_WEBUI_IMAGE=$OWUI_TEST_OPEN_WEBUI_IMAGE"
# shellcheck disable=SC2016 # expanded inside the root file system
if ! chroot_run "$rootfs" "$log" '
  set -e
  python3 -m venv .venv
  .venv/bin/pip install -q -r requirements/compat.in
  export PATH=$PWD/.venv/bin:$PATH ANSIBLE_CONFIG=$PWD/ansible.cfg ANSIBLE_COLLECTIONS_PATH=$PWD/.cache/collections
  echo "== versions"
  ansible --version | head -1
  ansible-galaxy collection list community.docker 2>/dev/null | grep -E "^community.docker "
  ansible-galaxy collection list community.crypto 2>/dev/null | grep -E "^community.crypto "
  echo "== build and install the collection from its tarball"
  ansible-galaxy collection build --output-path /tmp/dist .
  ansible-galaxy collection install --offline --no-deps -p .cache/collections /tmp/dist/owui-realtime-*.tar.gz
  test ! -L .cache/collections/ansible_collections/owui/realtime
  echo "== unit tests"
  pytest -q -p no:cacheprovider tests/unit
  echo "== ansible-doc"
  for m in $(ls plugins/modules | sed -n "s/\.py$//p"); do ansible-doc "owui.realtime.$m" >/dev/null; echo "module $m ok"; done
  for r in $(ls roles); do ansible-doc -t role "owui.realtime.$r" >/dev/null; echo "role $r ok"; done
  echo "== molecule default"
  molecule test -s default
'; then
  tail -n 30 "$log" >&2
  die "the collection does not pass on the newest Ansible (see $log)"
fi
grep -E '^(ansible \[core|community\.(docker|crypto) )' "$log" | sed 's/^/[compat-test]     /'
say "passed in $((SECONDS - start)) s"
