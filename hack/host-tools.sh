#!/usr/bin/env bash
# The host commands that setup, the image builds, the test hosts and the tests call, and the
# Debian package that brings each one. `make setup` runs `install` first, so a fresh Debian
# machine (python3, python3-venv, git, make) needs nothing installed by hand.
#
#   hack/host-tools.sh check     list what is missing; exit 1 if anything is
#   hack/host-tools.sh install   install what is missing with apt-get (root), or stop before
#                                changing anything with one message that lists all of it
#   hack/host-tools.sh table     the table below, for the README and the tests
#
# A command that only the engine needs (dockerd, containerd, runc, iptables) comes with docker.io,
# which hack/engine.sh installs when no engine answers.
set -euo pipefail

LOG_DIR=${OWUI_HOST_TOOLS_LOG_DIR:-/var/log/owui-realtime}

# command          package            what needs it
TOOLS="
python3            python3            the venv and the modules run by Ansible on localhost
git                git                ansible-galaxy, the fresh-machine test's clean clone
make               make               every entry point
docker             docker.io          the Docker client: image builds, tests, bench
debootstrap        debootstrap        hack/images.sh and hack/testhost.sh: Debian root file systems
chroot             coreutils          hack/images.sh: customise a root file system
flock              util-linux         hack/images.sh, hack/testhost.sh: one build at a time
unshare            util-linux         hack/testhost.sh: a mount namespace per test host
nsenter            util-linux         hack/testhost.sh: run a command on a test host
mount              mount              hack/images.sh, hack/testhost.sh: bind mounts
tar                tar                hack/images.sh, hack/testhost.sh: cached root file systems
sha256sum          coreutils          recipe hashes
ip                 iproute2           hack/testhost.sh: network namespaces, bridge, veth
ssh                openssh-client     tests that reach test hosts over SSH
ssh-keygen         openssh-client     hack/testhost.sh: the controller's key for test hosts
docker-registry    docker-registry    hack/testhost.sh: the registry test hosts pull the test images from
skopeo             skopeo             hack/testhost.sh: push the test images from this machine's engine to it
"

say() { printf '[host-tools] %s\n' "$*"; }
die() { printf '[host-tools] FAILED: %s\n' "$*" >&2; exit 1; }

rows() { printf '%s\n' "$TOOLS" | awk 'NF >= 2 { print $1, $2 }'; }

missing() { # prints "command package" for each command not on PATH
  local cmd pkg
  while read -r cmd pkg; do
    command -v "$cmd" >/dev/null 2>&1 || printf '%s %s\n' "$cmd" "$pkg"
  done < <(rows)
}

missing_packages() { missing | awk '{ print $2 }' | sort -u | tr '\n' ' ' | sed 's/ $//'; }

check() {
  local gaps
  gaps=$(missing)
  if [ -z "$gaps" ]; then
    say "every host command is present"
    return 0
  fi
  say "missing: $(printf '%s' "$gaps" | awk '{ printf "%s%s (%s)", sep, $1, $2; sep=", " }')"
  return 1
}

install() {
  local gaps pkgs why=()
  gaps=$(missing)
  if [ -z "$gaps" ]; then
    say "every host command is present"
    return 0
  fi
  pkgs=$(missing_packages)
  [ "$(id -u)" = 0 ] || why+=("setup must run as root to install them")
  command -v apt-get >/dev/null 2>&1 || why+=("this host has no apt-get")
  if [ ${#why[@]} -gt 0 ]; then
    die "missing host commands: $(printf '%s' "$gaps" | awk '{ printf "%s%s", sep, $1; sep=", " }');" \
      "$(IFS=';'; echo "${why[*]}"). Install the Debian packages '$pkgs' (apt-get install $pkgs)," \
      "or their equivalents on this system, then run make setup again. Nothing was changed."
  fi
  mkdir -p "$LOG_DIR"
  say "installing $pkgs (log: $LOG_DIR/apt-host-tools.log)"
  # shellcheck disable=SC2086 # one word per package
  if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $pkgs; } \
      >"$LOG_DIR/apt-host-tools.log" 2>&1; then
    tail -n 10 "$LOG_DIR/apt-host-tools.log" >&2 || true
    die "apt-get install $pkgs did not finish; see $LOG_DIR/apt-host-tools.log"
  fi
  check || die "still missing after the install; see $LOG_DIR/apt-host-tools.log"
}

case "${1:-check}" in
  check) check ;;
  install) install ;;
  table) rows ;;
  *) die "usage: $0 check|install|table" ;;
esac
