#!/usr/bin/env bash
# Test hosts on this machine: Debian root file systems made with debootstrap from a recipe in
# tests/hosts/<recipe>/ (`packages`, and `suite` where it is not bookworm) and cached as tarballs by
# recipe hash.
#
#   hack/testhost.sh rootfs RECIPE       build the recipe's root file system unless cached; print the tarball
#   hack/testhost.sh up NAME [N]         start host NAME from recipe docker-host as a machine of its own:
#                                        network namespace with address 10.231.0.(10+N) on the bridge
#                                        owui-th0, a private mount namespace whose root is a fresh copy of
#                                        the root file system, its own dockerd and sshd (root, key only)
#   hack/testhost.sh status NAME         exit 0 when the host is up
#   hack/testhost.sh down NAME           stop what `up` started and remove the namespace, veth and copy;
#                                        the host's engine data (images) stays as a cache
#   hack/testhost.sh run NAME CMD...     run CMD as root on the host
#   hack/testhost.sh restart-engine NAME stop the host's dockerd (SIGTERM, as `systemctl restart docker`
#                                        does) and start it again; containers return by restart policy
#   hack/testhost.sh registry            start the registry the hosts pull from ($GATEWAY:5000, plain
#                                        HTTP, storage kept in /var/lib/owui-realtime/registry) unless it runs
#   hack/testhost.sh publish IMAGE...    push images from this machine's engine to that registry (skipped
#                                        when the same image id was pushed before); prints their new names
#   hack/testhost.sh registry-stop       stop the registry `registry` started (not with
#                                        OWUI_TESTHOST_KEEP_REGISTRY=1, for suites that run side by side)
#   hack/testhost.sh inventory NAME...   an Ansible inventory (YAML) that reaches the hosts over SSH with
#                                        their own /usr/bin/python3
#   hack/testhost.sh purge NAME          also delete the host's engine data
#
# The hosts are reached as real ones are: by SSH on their own address, and get their images as real
# ones do: by pull, from the registry. Each sees only its own files
# (so two hosts writing /etc/owui-realtime/... do not collide) and its own Docker engine. Their only
# way out is NAT through this machine, for Debian's archive (apt) as a real host would use.
set -Eeuo pipefail
# A step that fails says which one, even where its command printed nothing (-E: in functions too).
trap 'printf "[testhost] FAILED at line %s: %s (exit %s)\n" "$LINENO" "$BASH_COMMAND" "$?" >&2' ERR

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
RECIPES="$ROOT/tests/hosts"
CACHE_DIR=${OWUI_TESTHOST_CACHE_DIR:-/var/cache/owui-realtime/hosts}
STATE_ROOT=${OWUI_TESTHOST_STATE_DIR:-/var/lib/owui-realtime/testhosts}
LOG_DIR=${OWUI_TESTHOST_LOG_DIR:-/var/log/owui-realtime}
DEBIAN_MIRROR=${OWUI_IMAGES_DEBIAN_MIRROR:-http://deb.debian.org/debian}
SUITE=bookworm
BRIDGE=owui-th0
SUBNET_PREFIX=10.231.0
SUBNET="$SUBNET_PREFIX.0/24"
GATEWAY="$SUBNET_PREFIX.1"
KEY="$STATE_ROOT/id_ed25519"

say() { printf '[testhost] %s\n' "$*"; }
die() { printf '[testhost] FAILED: %s\n' "$*" >&2; exit 1; }
need_root() { [ "$(id -u)" = 0 ] || die "test hosts need root (namespaces, mounts, chroot)"; }

# ---- root file systems ------------------------------------------------------------------------
packages() { grep -vE '^\s*(#|$)' "$RECIPES/$1/packages" | paste -sd, -; }

suite() { cat "$RECIPES/$1/suite" 2>/dev/null || echo "$SUITE"; }

recipe_hash() { # the recipe's files (its package list, and its suite where it names one)
  { printf 'suite=%s\n' "$(suite "$1")"; (cd "$RECIPES/$1" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum); } |
    sha256sum | cut -c1-16
}

cmd_rootfs() { # recipe -> path of the cached tarball
  local recipe=$1 hash tarball work log
  [ -f "$RECIPES/$recipe/packages" ] || die "no recipe tests/hosts/$recipe/packages"
  hash=$(recipe_hash "$recipe")
  tarball="$CACHE_DIR/$recipe-$hash.tar"
  if [ ! -s "$tarball" ]; then
    need_root
    command -v debootstrap >/dev/null || die "debootstrap is missing: run make setup (hack/host-tools.sh install)"
    mkdir -p "$CACHE_DIR" "$LOG_DIR"
    log="$LOG_DIR/testhost-rootfs-$recipe.log"
    exec 8>"$CACHE_DIR/.lock-$recipe"
    flock -w 900 8 || die "another build of $recipe holds $CACHE_DIR/.lock-$recipe"
    if [ ! -s "$tarball" ]; then
      say "$recipe: building a Debian $(suite "$recipe") root file system (recipe $hash, log: $log)" >&2
      work=$(mktemp -d /var/tmp/owui-testhost-rootfs.XXXXXX)
      if ! debootstrap --variant=minbase --include="$(packages "$recipe")" "$(suite "$recipe")" "$work/rootfs" \
          "$DEBIAN_MIRROR" >"$log" 2>&1; then
        rm -rf "$work"
        tail -n 10 "$log" >&2
        die "debootstrap of $recipe did not finish; see $log"
      fi
      # The build machine's resolver and name are not the test host's.
      : >"$work/rootfs/etc/resolv.conf"
      echo "$recipe" >"$work/rootfs/etc/hostname"
      tar --numeric-owner -C "$work/rootfs" -cf "$tarball.part" . && mv "$tarball.part" "$tarball"
      rm -rf "$work"
      rm -f $(ls "$CACHE_DIR/$recipe-"*.tar 2>/dev/null | grep -v "^$tarball$") 2>/dev/null || true
    fi
    exec 8>&-
  fi
  echo "$tarball"
}

# ---- hosts ------------------------------------------------------------------------------------
host_dir() { echo "$STATE_ROOT/$1"; }
netns() { echo "owui-$1"; }
holder_pid() { cat "$(host_dir "$1")/holder.pid" 2>/dev/null || true; }
is_up() { local p; p=$(holder_pid "$1"); [ -n "$p" ] && kill -0 "$p" 2>/dev/null; }
address() { cat "$(host_dir "$1")/address"; }

on_host() { # name cmd... : in the host's namespaces, with its root
  local name=$1 pid
  shift
  pid=$(holder_pid "$name")
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || die "test host $name is not up (hack/testhost.sh up $name)"
  nsenter -t "$pid" -m -n -r -w -- /usr/bin/env -i HOME=/root LANG=C.UTF-8 \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "$@"
}

ensure_bridge() {
  if ! ip link show "$BRIDGE" >/dev/null 2>&1; then
    ip link add "$BRIDGE" type bridge
    ip addr add "$GATEWAY/24" dev "$BRIDGE"
    ip link set "$BRIDGE" up
  fi
  sysctl -qw net.ipv4.ip_forward=1
  iptables -t nat -C POSTROUTING -s "$SUBNET" ! -o "$BRIDGE" -j MASQUERADE 2>/dev/null ||
    iptables -t nat -A POSTROUTING -s "$SUBNET" ! -o "$BRIDGE" -j MASQUERADE
  # A Docker engine on this machine sets FORWARD's policy to DROP; let the test hosts out and back.
  iptables -C FORWARD -i "$BRIDGE" -j ACCEPT 2>/dev/null || iptables -I FORWARD -i "$BRIDGE" -j ACCEPT
  iptables -C FORWARD -o "$BRIDGE" -j ACCEPT 2>/dev/null || iptables -I FORWARD -o "$BRIDGE" -j ACCEPT
}

drop_bridge_if_unused() { # once no host is attached and the registry (which listens on it) is stopped
  if ip link show "$BRIDGE" >/dev/null 2>&1; then
    [ -z "$(ip -o link show master "$BRIDGE" 2>/dev/null || true)" ] || return 0
  fi
  if registry_running; then return 0; fi
  ip link del "$BRIDGE" 2>/dev/null || true
  iptables -t nat -D POSTROUTING -s "$SUBNET" ! -o "$BRIDGE" -j MASQUERADE 2>/dev/null || true
  iptables -D FORWARD -i "$BRIDGE" -j ACCEPT 2>/dev/null || true
  iptables -D FORWARD -o "$BRIDGE" -j ACCEPT 2>/dev/null || true
}

controller_key() {
  [ -s "$KEY" ] || { mkdir -p "$STATE_ROOT"; ssh-keygen -q -t ed25519 -N '' -C owui-testhost -f "$KEY"; }
}

wait_for() { # seconds description command...
  local seconds=$1 what=$2 i
  shift 2
  for ((i = 0; i < seconds * 2; i++)); do "$@" >/dev/null 2>&1 && return 0; sleep 0.5; done
  return 1
}

cmd_up() {
  local name=$1 index=${2:-1} dir ns addr tarball pid veth
  need_root
  dir=$(host_dir "$name")
  ns=$(netns "$name")
  addr="$SUBNET_PREFIX.$((10 + index))"
  veth="th-$name"
  [ ${#veth} -le 15 ] || die "host name '$name' is too long for an interface name (at most 12 characters)"
  if is_up "$name"; then say "$name is up at $(address "$name")"; return 0; fi
  tarball=$(cmd_rootfs docker-host)
  controller_key
  mkdir -p "$dir/engine" "$LOG_DIR"
  echo "$addr" >"$dir/address"

  say "$name: fresh root file system from $(basename "$tarball")"
  rm -rf "$dir/rootfs"
  mkdir -p "$dir/rootfs"
  tar --numeric-owner -C "$dir/rootfs" -xf "$tarball"
  install -d -m 0700 "$dir/rootfs/root/.ssh"
  install -m 0600 "$KEY.pub" "$dir/rootfs/root/.ssh/authorized_keys"
  grep -E '^nameserver' /etc/resolv.conf >"$dir/rootfs/etc/resolv.conf" || true
  echo "$name" >"$dir/rootfs/etc/hostname"

  say "$name: network namespace $ns, address $addr on $BRIDGE"
  ensure_bridge
  ip netns add "$ns" 2>/dev/null || true
  ip link del "$veth" 2>/dev/null || true
  ip link add "$veth" type veth peer name eth0 netns "$ns"
  ip link set "$veth" master "$BRIDGE" up
  ip -n "$ns" link set lo up
  ip -n "$ns" addr add "$addr/24" dev eth0
  ip -n "$ns" link set eth0 up
  ip -n "$ns" route add default via "$GATEWAY"

  rm -f "$dir/mounted"
  # The holder owns the host's private mount namespace; every daemon and command enters it.
  # Its root is the copy itself (pivot_root, not chroot): the engine's containers and `docker exec`
  # then resolve paths the way they do on a real host.
  nsenter --net="/run/netns/$ns" unshare -m --propagation private -- /bin/sh -c '
    set -e
    r=$1 engine=$2 marker=$3
    mount --bind "$r" "$r"
    mkdir -p "$r/var/lib/docker"
    mount --bind "$engine" "$r/var/lib/docker"
    cd "$r"
    mkdir -p .oldroot
    pivot_root . .oldroot
    cd /
    mount -t proc proc /proc
    mount -t sysfs sysfs /sys
    mount --rbind /.oldroot/sys/fs/cgroup /sys/fs/cgroup
    mount --rbind /.oldroot/dev /dev
    mount -t tmpfs -o mode=0755 tmpfs /run
    mkdir -p /run/sshd
    touch "/.oldroot$marker"
    umount -l /.oldroot
    rmdir /.oldroot
    exec sleep infinity
  ' holder "$dir/rootfs" "$dir/engine" "$dir/mounted" </dev/null >"$LOG_DIR/testhost-$name.log" 2>&1 &
  echo $! >"$dir/holder.pid"
  wait_for 10 "mounts" test -e "$dir/mounted" && is_up "$name" ||
    die "$name: the mount namespace was not set up; see $LOG_DIR/testhost-$name.log"

  say "$name: starting dockerd and sshd"
  start_engine "$name"
  clean_engine "$name"
  on_host "$name" /usr/sbin/sshd -o "ListenAddress=$addr" -o PermitRootLogin=prohibit-password \
    -o PasswordAuthentication=no -o UseDNS=no
  wait_for 20 "sshd" ssh_probe "$name" || die "$name: sshd does not answer on $addr:22"
  say "$name is up at $addr (ssh root@$addr -i $KEY)"
}

start_engine() { # name: the host's dockerd, and wait until it answers
  local name=$1 addr
  addr=$(address "$name")
  # The engine also listens on the host's address, unencrypted: only this machine reaches the bridge,
  # and the tests read the engine's state from there as they do on localhost.
  on_host "$name" /bin/sh -c "nohup dockerd --pidfile /run/docker.pid -H unix:///run/docker.sock \
    -H tcp://$addr:2375 --insecure-registry $REGISTRY >>/var/log/dockerd.log 2>&1 </dev/null &"
  wait_for 60 "dockerd" on_host "$name" docker info ||
    { on_host "$name" tail -n 20 /var/log/dockerd.log >&2; die "$name: dockerd did not answer in 60 s"; }
}

cmd_restart_engine() { # name: stop the host's dockerd as a service manager would (SIGTERM), start it again
  local name=$1 pid
  need_root
  is_up "$name" || die "test host $name is not up (hack/testhost.sh up $name)"
  pid=$(on_host "$name" cat /run/docker.pid 2>/dev/null || true)
  if [ -n "$pid" ]; then
    say "$name: stopping dockerd (pid $pid); its containers stop with it"
    on_host "$name" /bin/sh -c "kill $pid; i=0; while kill -0 $pid 2>/dev/null; do
      [ \$i -lt 120 ] || exit 1; sleep 0.5; i=\$((i+1)); done" ||
      die "$name: dockerd (pid $pid) did not stop within 60 s"
  fi
  say "$name: starting dockerd"
  start_engine "$name"
  say "$name: dockerd answers again; containers come back by their restart policies"
}

clean_engine() { # name: every container, volume and network the last run left; images stay (the cache)
  # The engine belongs to this test host alone, so what it lists is what earlier runs of the
  # scenario made; each object is removed by its name.
  on_host "$1" /bin/sh -c '
    for c in $(docker ps -aq); do docker rm -fv "$c"; done
    for v in $(docker volume ls -q); do docker volume rm "$v"; done
    for n in $(docker network ls --format "{{.Name}}"); do
      case "$n" in bridge|host|none) ;; *) docker network rm "$n" ;; esac
    done' >/dev/null
}

ssh_probe() {
  ssh -i "$KEY" -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
    -o ConnectTimeout=2 -o LogLevel=ERROR "root@$(address "$1")" true
}

cmd_down() {
  local name=$1 dir pid ns hostns p
  need_root
  dir=$(host_dir "$name")
  ns=$(netns "$name")
  if is_up "$name"; then
    say "$name: stopping sshd and dockerd"
    on_host "$name" /bin/sh -c '
      [ -s /run/sshd.pid ] && kill "$(cat /run/sshd.pid)" 2>/dev/null
      if [ -s /run/docker.pid ]; then
        p=$(cat /run/docker.pid); kill "$p" 2>/dev/null
        i=0; while kill -0 "$p" 2>/dev/null && [ $i -lt 60 ]; do sleep 0.5; i=$((i+1)); done
      fi
      true' || true
    pid=$(holder_pid "$name")
    # Whatever still runs in the host's mount namespace (containerd shims, sshd sessions) ends with it;
    # never a process of this machine's own namespace, whatever happened to the holder.
    hostns=$(readlink "/proc/$pid/ns/mnt" 2>/dev/null || true)
    if [ -n "$hostns" ] && [ "$hostns" != "$(readlink /proc/self/ns/mnt)" ]; then
      for p in $(ps -eo pid= | tr -d ' '); do
        [ "$p" != "$pid" ] && [ "$(readlink "/proc/$p/ns/mnt" 2>/dev/null)" = "$hostns" ] &&
          kill -9 "$p" 2>/dev/null || true
      done
    fi
    kill "$pid" 2>/dev/null || true
    wait_for 10 "holder" sh -c "! kill -0 $pid" || kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$dir/holder.pid"
  ip link del "th-$name" 2>/dev/null || true
  ip netns del "$ns" 2>/dev/null || true
  drop_bridge_if_unused
  rm -rf "$dir/rootfs"
  say "$name is down (engine data kept in $dir/engine)"
}

# ---- the registry the hosts pull images from ----------------------------------------------------
REGISTRY="$GATEWAY:5000"
REGISTRY_DIR=${OWUI_TESTHOST_REGISTRY_DIR:-/var/lib/owui-realtime/registry}

curl_like() { python3 -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)' "$1" 2>/dev/null; }

cmd_registry() {
  need_root
  ensure_bridge
  if curl_like "http://$REGISTRY/v2/"; then say "registry answers on $REGISTRY"; return 0; fi
  mkdir -p "$REGISTRY_DIR/data" "$LOG_DIR"
  cat >"$REGISTRY_DIR/config.yml" <<CONFIG
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $REGISTRY_DIR/data
http:
  addr: $REGISTRY
CONFIG
  nohup docker-registry serve "$REGISTRY_DIR/config.yml" >>"$LOG_DIR/testhost-registry.log" 2>&1 </dev/null &
  echo $! >"$REGISTRY_DIR/registry.pid"
  wait_for 20 "registry" curl_like "http://$REGISTRY/v2/" ||
    { tail -n 20 "$LOG_DIR/testhost-registry.log" >&2; die "the registry did not answer on $REGISTRY in 20 s"; }
  say "registry answers on $REGISTRY (storage $REGISTRY_DIR/data)"
}

registry_running() { local pid; pid=$(cat "$REGISTRY_DIR/registry.pid" 2>/dev/null) && kill -0 "$pid" 2>/dev/null; }

cmd_registry_stop() { # only a registry that `registry` started
  local pid
  # Whoever runs several suites at once (make test's callers, a developer) keeps it for them all.
  if [ "${OWUI_TESTHOST_KEEP_REGISTRY:-0}" = 1 ]; then say "registry kept (OWUI_TESTHOST_KEEP_REGISTRY=1)"; return 0; fi
  if registry_running; then
    pid=$(cat "$REGISTRY_DIR/registry.pid")
    kill "$pid"
    wait_for 10 "registry" sh -c "! kill -0 $pid" || kill -9 "$pid" 2>/dev/null || true
    say "registry stopped"
  fi
  rm -f "$REGISTRY_DIR/registry.pid"
  drop_bridge_if_unused
}

registry_name() { echo "$REGISTRY/${1#localhost/}"; }

cmd_publish() {
  local image id target stamp
  cmd_registry >/dev/null
  for image in "$@"; do
    id=$(docker image inspect --format '{{.Id}}' "$image") || die "this machine's engine has no image $image"
    target=$(registry_name "$image")
    stamp="$REGISTRY_DIR/pushed/$(echo "$target" | tr '/:' '__')"
    if [ "$(cat "$stamp" 2>/dev/null)" = "$id" ] &&
        skopeo inspect --tls-verify=false "docker://$target" >/dev/null 2>&1; then
      say "$target is $image already" >&2
    else
      say "pushing $image to $target" >&2
      skopeo copy -q --dest-tls-verify=false "docker-daemon:$image" "docker://$target" >&2 ||
        die "pushing $image to $target failed"
      mkdir -p "$REGISTRY_DIR/pushed"
      echo "$id" >"$stamp"
    fi
    echo "$target"
  done
}

cmd_inventory() {
  local name
  printf 'all:\n  vars:\n'
  printf '    ansible_user: root\n    ansible_python_interpreter: /usr/bin/python3\n'
  printf '    ansible_ssh_private_key_file: %s\n' "$KEY"
  printf '    ansible_ssh_common_args: -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null\n'
  printf '  hosts:\n'
  for name in "$@"; do
    printf '    %s:\n      ansible_host: %s\n' "$name" "$(address "$name")"
  done
}

case "${1:-}" in
  rootfs) cmd_rootfs "$2" ;;
  up) cmd_up "$2" "${3:-1}" ;;
  down) cmd_down "$2" ;;
  status) is_up "$2" && say "$2 is up at $(address "$2")" || { say "$2 is not up"; exit 1; } ;;
  run) shift; name=$1; shift; on_host "$name" "$@" ;;
  restart-engine) cmd_restart_engine "$2" ;;
  registry) cmd_registry ;;
  registry-stop) cmd_registry_stop ;;
  publish) shift; cmd_publish "$@" ;;
  inventory) shift; cmd_inventory "$@" ;;
  purge) cmd_down "$2"; rm -rf "$(host_dir "$2")" ;;
  *) die "usage: $0 rootfs RECIPE | up NAME [N] | status NAME | down NAME | run NAME CMD... | restart-engine NAME | registry | registry-stop | publish IMAGE... | inventory NAME... | purge NAME" ;;
esac
