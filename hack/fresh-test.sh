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

tarball=$("$ROOT/hack/testhost.sh" rootfs fresh)
WORK=$(mktemp -d /var/tmp/owui-fresh-test.XXXXXX)
rootfs="$WORK/rootfs"
mkdir -p "$rootfs"
tar --numeric-owner -C "$rootfs" -xf "$tarball"
say "clean Debian 12 root file system from $(basename "$tarball"): $(chroot "$rootfs" dpkg-query -W -f '${Package} ' python3 python3-venv git make)"
for cmd in debootstrap docker curl; do
  if chroot "$rootfs" /bin/sh -c "command -v $cmd" >/dev/null; then die "the fresh root file system already has $cmd"; fi
done
git clone -q "$ROOT" "$rootfs/root/owui-realtime"
say "clean clone of $(git -C "$ROOT" rev-parse --short HEAD) in /root/owui-realtime"

# What every machine of this workplace has before anything is installed: the package index
# configuration, the CA bundle it trusts, its local wheel folders, and its policy that package
# installs start no services.
for f in /etc/pip.conf /etc/xdg/pip /root/.config/pip /etc/ssl/certs/ca-certificates.crt /usr/sbin/policy-rc.d; do
  [ -e "$f" ] || continue
  mkdir -p "$rootfs$(dirname "$f")"
  cp -a "$f" "$rootfs$(dirname "$f")/"
done
grep -E '^nameserver' /etc/resolv.conf >"$rootfs/etc/resolv.conf" || true
binds=()
for d in /opt/wheels /opt/pypi /opt/pypi-more; do [ -d "$d" ] && binds+=("$d"); done

in_fresh() { # log, then the command line to run in the clone as root
  local log=$1
  shift
  unshare -m --propagation private -- /bin/sh -c '
    set -e
    r=$1 sock=$2; shift 2
    mount -t proc proc "$r/proc"
    mount --rbind /sys "$r/sys"
    mount --rbind /dev "$r/dev"
    mount -t tmpfs tmpfs "$r/run"
    touch "$r/run/docker.sock"
    mount --bind "$sock" "$r/run/docker.sock"
    for d in $BINDS; do mkdir -p "$r$d"; mount --bind -o ro "$d" "$r$d"; done
    exec chroot "$r" /usr/bin/env -i HOME=/root LANG=C.UTF-8 CI=true \
      PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
      PIP_CERT="${PIP_CERT:-}" PIP_FIND_LINKS="${PIP_FIND_LINKS:-}" \
      SSL_CERT_FILE="${SSL_CERT_FILE:-}" REQUESTS_CA_BUNDLE="${REQUESTS_CA_BUNDLE:-}" \
      /bin/sh -c "cd /root/owui-realtime && $*"
  ' fresh "$rootfs" "$sock" "$@" >"$log" 2>&1
}
export BINDS="${binds[*]}"

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
