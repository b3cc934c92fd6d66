#!/usr/bin/env bash
# The collection's execution environment (EE), built as AWX users build theirs, on a base made here:
#
#   hack/ee.sh base    localhost/owui-test/ee-base:bookworm, a Debian 12 root file system (minbase with
#                      python3, pip, venv, git, openssh-client) made with debootstrap and `docker import`ed;
#                      the public EE bases cannot be pulled here. Nothing else in its Python: the EE gets
#                      the modules' libraries only from what the collections declare.
#   hack/ee.sh build   the base, then `ansible-builder create` from an EE definition (schema 3: ansible-core
#                      and ansible-runner as pinned in requirements/constraints.txt, owui.realtime from its
#                      built tarball, community.docker and community.crypto from local tarballs, never
#                      Galaxy) and `docker build`; prints the EE's image name (tests/awx/ee_build.py)
#   hack/ee.sh list    both images, their recipe hashes and whether the engine has them
#
# Each image carries the hash of its inputs as the label org.owui-test.recipe and is rebuilt only when
# that changes. The base's root file system is kept as a tarball in $CACHE_DIR, like hack/images.sh's.
set -Eeuo pipefail
trap 'printf "[ee] FAILED at line %s: %s (exit %s)\n" "$LINENO" "$BASH_COMMAND" "$?" >&2' ERR

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=hack/lib/chroot.sh
. "$ROOT/hack/lib/chroot.sh"
LOG_DIR=${OWUI_IMAGES_LOG_DIR:-/var/log/owui-realtime}
CACHE_DIR=${OWUI_IMAGES_CACHE_DIR:-/var/cache/owui-realtime/images}
DEBIAN_MIRROR=${OWUI_IMAGES_DEBIAN_MIRROR:-http://deb.debian.org/debian}
# The build's pip reaches PyPI through whatever this machine trusts (a TLS-inspecting proxy's CA, if
# any): the base carries this bundle for its pip only, as /etc/ssl/certs/workplace-ca.crt.
HOST_CA_BUNDLE=${PIP_CERT:-/etc/ssl/certs/ca-certificates.crt}
PYTHON=${OWUI_EE_PYTHON:-$ROOT/.venv/bin/python}

BASE_IMAGE=localhost/owui-test/ee-base:bookworm
EE_IMAGE=localhost/owui-test/ee:latest
LABEL_RECIPE=org.owui-test.recipe
SUITE=bookworm
# ansible-builder's scripts need bash (minbase has it); ansible-runner's jobs need ssh and ssh-agent.
PACKAGES=python3,python3-pip,python3-venv,git,openssh-client,ca-certificates

# ansible-builder calls its package manager for the collections' bindep.txt entries as
# `$PKGMGR install -y [options] PACKAGE...` and, to clean up, `$PKGMGR clean all`. The EE definition
# names this file as options.package_manager_path.
read -r -d '' PKGMGR_SHIM <<'EOF' || true
#!/bin/sh
# ansible-builder's package manager on a Debian base: apt-get behind dnf's two verbs it uses.
set -eu
verb=${1:-}
[ $# -gt 0 ] && shift
case "$verb" in
  install)
    packages=
    for arg in "$@"; do case "$arg" in -*) ;; *) packages="$packages $arg" ;; esac; done
    apt-get update -qq
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $packages ;;
  clean) apt-get clean; rm -rf /var/lib/apt/lists/* ;;
  *) echo "ee-apt: ansible-builder asked for '$verb', which this shim does not know" >&2; exit 2 ;;
esac
EOF
read -r -d '' PIP_CONF <<'EOF' || true
[global]
cert = /etc/ssl/certs/workplace-ca.crt
disable-pip-version-check = true
EOF

say() { printf '[ee] %s\n' "$*"; }
die() { printf '[ee] FAILED: %s\n' "$*" >&2; exit 1; }

base_hash() {
  { printf 'suite=%s\npackages=%s\n' "$SUITE" "$PACKAGES"; printf '%s\n' "$PKGMGR_SHIM" "$PIP_CONF"
    sha256sum <"$HOST_CA_BUNDLE"; } | sha256sum | cut -c1-16
}

image_label() { docker image inspect --format "{{ index .Config.Labels \"$LABEL_RECIPE\" }}" "$1" 2>/dev/null || true; }

WORK=
cleanup() { [ -z "$WORK" ] || rm -rf --one-file-system "$WORK"; }
trap cleanup EXIT

cmd_base() {
  local hash tarball log rootfs start=$SECONDS
  hash=$(base_hash)
  if [ "$(image_label "$BASE_IMAGE")" = "$hash" ]; then
    say "$BASE_IMAGE cached (recipe $hash)"
    return 0
  fi
  [ "$(id -u)" = 0 ] || die "building the base needs root (debootstrap, chroot)"
  command -v debootstrap >/dev/null || die "debootstrap is missing: run make setup (hack/host-tools.sh install)"
  mkdir -p "$LOG_DIR" "$CACHE_DIR"
  exec 7>"$CACHE_DIR/.lock-ee-base"
  flock -w 900 7 || die "another build of the EE base holds $CACHE_DIR/.lock-ee-base"
  tarball="$CACHE_DIR/ee-base-$hash.tar"
  log="$LOG_DIR/ee-base.log"
  if [ ! -s "$tarball" ]; then
    say "building a Debian $SUITE root file system for the EE base (recipe $hash, log: $log)"
    WORK=$(mktemp -d /var/tmp/owui-ee-base.XXXXXX)
    rootfs="$WORK/rootfs"
    debootstrap --variant=minbase --include="$PACKAGES" "$SUITE" "$rootfs" "$DEBIAN_MIRROR" >"$log" 2>&1 ||
      { tail -n 10 "$log" >&2; die "debootstrap did not finish; see $log"; }
    printf '%s\n' "$PKGMGR_SHIM" >"$rootfs/usr/local/sbin/ee-apt"
    chmod 0755 "$rootfs/usr/local/sbin/ee-apt"
    printf '%s\n' "$PIP_CONF" >"$rootfs/etc/pip.conf"
    cp "$HOST_CA_BUNDLE" "$rootfs/etc/ssl/certs/workplace-ca.crt"
    # The promise the EE test rests on: the base's Python has none of the modules' libraries, and pip works.
    mkdir -p "$rootfs/root/owui-realtime"
    chroot_run "$rootfs" "$log.check" "python3 -m pip --version && for m in requests redis socketio websocket; do
        if python3 -c \"import \$m\" 2>/dev/null; then echo \"the base's Python already has \$m\"; exit 1; fi; done" ||
      { cat "$log.check" >&2; die "the base root file system is not what the EE test needs; see $log.check"; }
    cat "$log.check" >>"$log"
    rm -rf "$rootfs/root/owui-realtime" "$rootfs/var/lib/apt/lists/"* "$rootfs/var/cache/apt/"*.bin \
      "$rootfs/var/cache/apt/archives/"*.deb "$rootfs/usr/share/doc" "$rootfs/usr/share/man" "$rootfs/usr/share/info" \
      "$rootfs/usr/share/locale"
    mkdir -p "$rootfs/usr/share/doc"
    : >"$rootfs/etc/resolv.conf"
    echo localhost >"$rootfs/etc/hostname"
    tar --numeric-owner -C "$rootfs" -cf "$tarball.part" .
    mv "$tarball.part" "$tarball"
    cleanup
    WORK=
  fi
  say "importing $tarball as $BASE_IMAGE"
  docker import --change "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
    --change "ENV LANG=C.UTF-8" --change "LABEL $LABEL_RECIPE=$hash" --change 'CMD ["/bin/bash"]' \
    "$tarball" "$BASE_IMAGE" >/dev/null
  find "$CACHE_DIR" -maxdepth 1 -name 'ee-base-*.tar' ! -name "ee-base-$hash.tar" -delete
  say "$BASE_IMAGE ready (recipe $hash, $((SECONDS - start)) s)"
}

cmd_build() {
  cmd_base >&2
  "$PYTHON" "$ROOT/tests/awx/ee_build.py" --base "$BASE_IMAGE" --tag "$EE_IMAGE" --label "$LABEL_RECIPE"
}

cmd_list() {
  local have hash
  hash=$(base_hash)
  have=$(image_label "$BASE_IMAGE")
  printf '%-40s %s %s\n' "$BASE_IMAGE" "$hash" "$([ "$have" = "$hash" ] && echo present || echo "missing or stale")"
  printf '%-40s %s\n' "$EE_IMAGE" "$(image_label "$EE_IMAGE")"
}

case "${1:-}" in
  base) cmd_base ;;
  build) cmd_build ;;
  list) cmd_list ;;
  *) die "usage: $0 base | build | list" ;;
esac
