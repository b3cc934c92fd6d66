#!/usr/bin/env bash
# `make fresh-test`: prove that `make setup` needs nothing but what the README promises.
#
# A clean Debian 12 root file system (minbase plus python3, python3-venv, git and make: recipe
# tests/hosts/fresh) gets a clean clone of this repository's HEAD, and `make setup` runs there as root
# against this machine's Docker engine (its socket is the only thing shared, with the package
# configuration every machine of this workplace has). Two runs on the same copy:
#   1. a negative control: the clone's hack/host-tools.sh with debootstrap taken out of its install
#      list must fail, naming debootstrap;
#   2. the clone as committed must pass: host commands installed, venv made, the engine found, the
#      image step done.
# Only what this script made is removed at the end (its copy of the root file system).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=hack/lib/chroot.sh
. "$ROOT/hack/lib/chroot.sh"
LOG_DIR=${OWUI_FRESH_LOG_DIR:-/var/log/owui-realtime}
WORK=
say() { printf '[fresh-test] %s\n' "$*"; }
die() { printf '[fresh-test] FAILED: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "needs root (chroot, mounts)"
docker info >/dev/null 2>&1 || die "no Docker engine answers; run make engine first"
sock=$(docker context inspect --format '{{.Endpoints.docker.Host}}' 2>/dev/null || echo unix:///var/run/docker.sock)
sock=${sock#unix://}
[ -S "$sock" ] || die "the engine's socket $sock is not a local socket"

cleanup() { [ -n "$WORK" ] && rm -rf --one-file-system "$WORK"; }
trap cleanup EXIT

WORK=$(mktemp -d /var/tmp/owui-fresh-test.XXXXXX)
rootfs=$(chroot_from_recipe fresh "$WORK")
say "clean Debian 12 root file system: $(chroot "$rootfs" dpkg-query -W -f '${Package} ' python3 python3-venv git make)"
for cmd in debootstrap docker curl; do
  if chroot "$rootfs" /bin/sh -c "command -v $cmd" >/dev/null; then die "the fresh root file system already has $cmd"; fi
done
say "clean clone of $(git -C "$ROOT" rev-parse --short HEAD) in /root/owui-realtime"
export CHROOT_SOCKET=$sock
in_fresh() { chroot_run "$rootfs" "$@"; }

# 1. The negative control: without debootstrap in the install list, setup must stop and say so.
neg_log="$LOG_DIR/fresh-test-without-debootstrap.log"
mkdir -p "$LOG_DIR"
sed -i '/^debootstrap[[:space:]]/d' "$rootfs/root/owui-realtime/hack/host-tools.sh"
say "1/2 make setup with debootstrap left out of hack/host-tools.sh's install list (log: $neg_log)"
start=$SECONDS
if in_fresh "$neg_log" make setup; then
  die "make setup passed without debootstrap in the install list: the fresh-machine test cannot see a missing install step"
fi
grep -q 'debootstrap is missing' "$neg_log" || { tail -n 15 "$neg_log" >&2; die "make setup failed, but not for the missing debootstrap (see $neg_log)"; }
say "    failed as it must, naming debootstrap ($((SECONDS - start)) s)"
git -C "$rootfs/root/owui-realtime" checkout -q -- hack/host-tools.sh

# 2. The clone as committed.
log="$LOG_DIR/fresh-test.log"
say "2/2 make setup on the clone as committed (log: $log)"
start=$SECONDS
in_fresh "$log" make setup || { tail -n 25 "$log" >&2; die "make setup failed on a fresh machine (see $log)"; }
for expect in 'every host command is present' 'a Docker engine already answers' 'cached (recipe'; do
  grep -q "$expect" "$log" || { tail -n 25 "$log" >&2; die "make setup passed, but its log lacks '$expect' (see $log)"; }
done
chroot "$rootfs" /bin/sh -c 'command -v debootstrap' >/dev/null || die "debootstrap was not installed"
[ -x "$rootfs/root/owui-realtime/.venv/bin/ansible-playbook" ] || die "the venv has no ansible-playbook"
say "    passed ($((SECONDS - start)) s): host commands installed, venv made, engine found, images ready"
say "fresh-machine test passed"
