# shellcheck shell=bash
# Running this repository inside a Debian root file system from hack/testhost.sh, as root, in a
# private mount namespace: for the fresh-machine test and the newest-Ansible controller test.
# Sourced; the caller sets `set -euo pipefail`.

# What every machine of this workplace has before anything is installed: the package index
# configuration, the CA bundle it trusts, its local wheel folders (bound read-only by chroot_run),
# and its policy that package installs start no services.
chroot_workplace_config() { # rootfs
  local rootfs=$1 f
  for f in /etc/pip.conf /etc/xdg/pip /root/.config/pip /etc/ssl/certs/ca-certificates.crt /usr/sbin/policy-rc.d; do
    [ -e "$f" ] || continue
    mkdir -p "$rootfs$(dirname "$f")"
    cp -a "$f" "$rootfs$(dirname "$f")/"
  done
  grep -E '^nameserver' /etc/resolv.conf >"$rootfs/etc/resolv.conf" || true
}

# chroot_run ROOTFS LOG COMMAND-LINE: run COMMAND-LINE with /bin/sh in /root/owui-realtime of ROOTFS,
# output to LOG. CHROOT_SOCKET (a Docker socket to show at /run/docker.sock) and CHROOT_BINDS (paths
# to show at the same place, read-write) are optional; the workplace's wheel folders are always bound
# read-only. Environment: HOME, PATH, LANG, CI and the workplace's pip and CA settings, nothing else.
chroot_run() {
  local rootfs=$1 log=$2 ro=() d
  shift 2
  for d in /opt/wheels /opt/pypi /opt/pypi-more; do [ -d "$d" ] && ro+=("$d"); done
  RO_BINDS="${ro[*]}" RW_BINDS="${CHROOT_BINDS:-}" SOCK="${CHROOT_SOCKET:-}" \
  unshare -m --propagation private -- /bin/sh -c '
    set -e
    r=$1; shift
    mount -t proc proc "$r/proc"
    mount --rbind /sys "$r/sys"
    mount --rbind /dev "$r/dev"
    mount -t tmpfs tmpfs "$r/run"
    if [ -n "$SOCK" ]; then touch "$r/run/docker.sock"; mount --bind "$SOCK" "$r/run/docker.sock"; fi
    for d in $RO_BINDS; do mkdir -p "$r$d"; mount --bind -o ro "$d" "$r$d"; done
    for d in $RW_BINDS; do mkdir -p "$r$d"; mount --bind "$d" "$r$d"; done
    exec chroot "$r" /usr/bin/env -i HOME=/root LANG=C.UTF-8 CI=true \
      PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
      PIP_CERT="${PIP_CERT:-}" PIP_FIND_LINKS="${PIP_FIND_LINKS:-}" \
      SSL_CERT_FILE="${SSL_CERT_FILE:-}" REQUESTS_CA_BUNDLE="${REQUESTS_CA_BUNDLE:-}" \
      ${CHROOT_ENV:-} /bin/sh -c "cd /root/owui-realtime && $*"
  ' chroot_run "$rootfs" "$@" >"$log" 2>&1
}

# chroot_from_recipe RECIPE WORKDIR: a fresh copy of the recipe's root file system with a clean clone
# of this repository's HEAD in /root/owui-realtime; prints the root file system's path.
chroot_from_recipe() {
  local recipe=$1 work=$2 tarball rootfs
  tarball=$("$ROOT/hack/testhost.sh" rootfs "$recipe")
  rootfs="$work/rootfs"
  mkdir -p "$rootfs"
  tar --numeric-owner -C "$rootfs" -xf "$tarball"
  git clone -q "$ROOT" "$rootfs/root/owui-realtime"
  chroot_workplace_config "$rootfs"
  echo "$rootfs"
}
