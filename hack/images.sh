#!/usr/bin/env bash
# Build the offline test images from Debian packages and PyPI, without a registry:
#   localhost/owui-test/valkey:8.1          Valkey from Debian trixie, laid out like valkey/valkey
#   localhost/owui-test/open-webui:0.12.4   open-webui from PyPI on Debian bookworm, started like
#                                           the official image, offline
#   localhost/owui-test/postgres:15         postgresql-15 from Debian bookworm, laid out like postgres
#   localhost/owui-test/nginx:1.22          nginx-light from Debian bookworm, laid out like nginx
# Each image is a debootstrapped rootfs, customised in a chroot by tests/images/<name>/customize.sh,
# tarred and `docker import`ed with the instructions in tests/images/<name>/import-changes.
#
# Derived images, for the upgrade tests, are made from one of those (BASE below) so that they share
# its layers: a container of the base runs tests/images/<name>/customize.sh (when there is one) and
# is `docker commit`ed with the instructions in tests/images/<name>/commit-changes:
#   localhost/owui-test/open-webui:0.12.3         the older release, pip-installed over 0.12.4
#   localhost/owui-test/open-webui:never-healthy  exits at start: the upgrade's rollback case
#   localhost/owui-test/valkey:8.1-next           the same Valkey under another image id
#
#   hack/images.sh build [NAME...]   build what is missing or whose recipe changed
#   hack/images.sh list              image names, recipe hashes and whether the engine has them
#
# An image carries its recipe hash as the label org.owui-test.recipe; it is rebuilt only when
# that label differs from the hash of tests/images/<name>/ plus the pins below (and, for a derived
# image, its base's hash). Rootfs tarballs are kept in $CACHE_DIR so an engine whose image store was
# wiped re-imports them in seconds; derived images are made again from their base.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
RECIPES="$ROOT/tests/images"
LOG_DIR=${OWUI_IMAGES_LOG_DIR:-/var/log/owui-realtime}
CACHE_DIR=${OWUI_IMAGES_CACHE_DIR:-/var/cache/owui-realtime/images}
WORK_PARENT=${OWUI_IMAGES_WORK_DIR:-/var/tmp}
DEBIAN_MIRROR=${OWUI_IMAGES_DEBIAN_MIRROR:-http://deb.debian.org/debian}
# The CPU torch wheel; pip would otherwise pull the multi-GB CUDA build.
WHEEL_DIR=${OWUI_IMAGES_WHEEL_DIR:-/opt/wheels}
# The chroot's pip trusts what the host trusts (a TLS-inspecting proxy's CA, if any); the file
# is mounted for the build only and is not in the image.
HOST_CA_BUNDLE=${PIP_CERT:-/etc/ssl/certs/ca-certificates.crt}

LABEL_RECIPE=org.owui-test.recipe

# ---- pins: part of each image's recipe hash ---------------------------------------------
IMAGES=(valkey open-webui postgres nginx open-webui-0.12.3 open-webui-never-healthy valkey-next)
declare -A IMAGE SUITE PACKAGES PINS BASE
IMAGE[valkey]=localhost/owui-test/valkey:8.1
SUITE[valkey]=trixie
PACKAGES[valkey]=valkey-server,valkey-tools
PINS[valkey]="VALKEY_SERIES=8.1"
IMAGE[open-webui]=localhost/owui-test/open-webui:0.12.4
SUITE[open-webui]=bookworm
PACKAGES[open-webui]=python3,python3-venv,ca-certificates,curl,jq,libsm6,libxext6
PINS[open-webui]="OPEN_WEBUI_VERSION=0.12.4 TORCH_VERSION=2.13.0+cpu PSYCOPG2_VERSION=2.9.13"
IMAGE[postgres]=localhost/owui-test/postgres:15
SUITE[postgres]=bookworm
PACKAGES[postgres]=postgresql-15,postgresql-client-15
PINS[postgres]="POSTGRES_MAJOR=15"
IMAGE[nginx]=localhost/owui-test/nginx:1.22
SUITE[nginx]=bookworm
PACKAGES[nginx]=nginx-light
PINS[nginx]="NGINX_SERIES=1.22"
IMAGE[open-webui-0.12.3]=localhost/owui-test/open-webui:0.12.3
BASE[open-webui-0.12.3]=open-webui
PINS[open-webui-0.12.3]="OPEN_WEBUI_VERSION=0.12.3 TORCH_VERSION=2.13.0+cpu"
IMAGE[open-webui-never-healthy]=localhost/owui-test/open-webui:never-healthy
BASE[open-webui-never-healthy]=open-webui
IMAGE[valkey-next]=localhost/owui-test/valkey:8.1-next
BASE[valkey-next]=valkey
# -------------------------------------------------------------------------------------------

pin() { # image key -> value
  local kv
  for kv in ${PINS[$1]}; do [ "${kv%%=*}" != "$2" ] || { echo "${kv#*=}"; return 0; }; done
  return 1
}

say() { printf '[images] %s\n' "$*"; }
die() { printf '[images] %s\n' "$*" >&2; exit 1; }

recipe_hash() {
  local name=$1
  {
    if [ -n "${BASE[$name]:-}" ]; then
      printf 'base=%s\npins=%s\n' "$(recipe_hash "${BASE[$name]}")" "${PINS[$name]:-}"
    else
      printf 'suite=%s\npackages=%s\npins=%s\n' "${SUITE[$name]}" "${PACKAGES[$name]}" "${PINS[$name]}"
    fi
    (cd "$RECIPES/$name" && find . -type f -printf '%m %p\n' | LC_ALL=C sort &&
      find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum)
  } | sha256sum | cut -c1-16
}

image_recipe_label() {
  docker image inspect --format "{{ index .Config.Labels \"$LABEL_RECIPE\" }}" "$1" 2>/dev/null || true
}

# ---- step runner ---------------------------------------------------------------------------
# Each step runs in a subshell with errexit on, output appended to the image's log; a failing
# step stops the build with its name and the log path.
LOG=/dev/null
CURRENT_NAME=
run_step() {
  local step=$1 rc
  shift
  say "$CURRENT_NAME: $step"
  printf '\n===== %s  step: %s\n' "$(date '+%F %T')" "$step" >>"$LOG"
  set +e
  (set -e; "$@") >>"$LOG" 2>&1
  rc=$?
  set -e
  if [ "$rc" -ne 0 ]; then
    tail -n 15 "$LOG" >&2 || true
    die "FAILED at step '$step' — see $LOG"
  fi
}

# ---- build directory and mounts --------------------------------------------------------------
BUILD_DIR=
mounts_under() { awk -v d="$1" '$2 == d || index($2, d "/") == 1 { print $2 }' /proc/self/mounts | sort -r; }
cleanup() {
  local m left
  [ -n "$BUILD_DIR" ] && [ -d "$BUILD_DIR" ] || return 0
  for m in $(mounts_under "$BUILD_DIR"); do umount "$m" 2>/dev/null || umount -l "$m" || true; done
  left=$(mounts_under "$BUILD_DIR")
  if [ -n "$left" ]; then
    printf '[images] still mounted, leaving %s in place: %s\n' "$BUILD_DIR" "$left" >&2
    return 0
  fi
  rm -rf "$BUILD_DIR"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

bind_ro() { # source target: a read-only bind mount of a file or a directory
  if [ -d "$1" ]; then mkdir -p "$2"; else touch "$2"; fi
  mount --bind "$1" "$2" && mount -o remount,bind,ro "$2"
}

# ---- steps -----------------------------------------------------------------------------------
step_debootstrap() { # rootfs suite packages
  debootstrap --variant=minbase --include="$3" "$2" "$1" "$DEBIAN_MIRROR"
}

step_customize() { # name rootfs
  local name=$1 rootfs=$2 pins=() p
  for p in ${PINS[$name]}; do pins+=("$p"); done
  mkdir -p "$rootfs/run/recipe"
  cp -a "$RECIPES/$name/." "$rootfs/run/recipe/"
  mount -t proc proc "$rootfs/proc"
  if [ "$name" = open-webui ]; then
    [ -d "$WHEEL_DIR" ] || { echo "no wheel directory $WHEEL_DIR (set OWUI_IMAGES_WHEEL_DIR)"; return 1; }
    cp /etc/resolv.conf "$rootfs/etc/resolv.conf"
    bind_ro "$WHEEL_DIR" "$rootfs/opt/wheels"
    bind_ro "$HOST_CA_BUNDLE" "$rootfs/run/recipe/ca.crt"
    pins+=(PIP_CERT=/run/recipe/ca.crt)
  fi
  chroot "$rootfs" /usr/bin/env -i HOME=/root LANG=C.UTF-8 \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "${pins[@]}" \
    /run/recipe/customize.sh
  for p in $(mounts_under "$rootfs"); do umount "$p"; done
}

step_scrub() { # rootfs
  local r=$1
  [ -z "$(mounts_under "$r")" ] || { echo "still mounted under $r"; return 1; }
  rm -rf "$r/run/recipe" "$r/root/.cache/pip" \
    "$r/var/lib/apt/lists/"* "$r/var/cache/apt/"*.bin \
    "$r/var/cache/apt/archives/"*.deb "$r/var/cache/debconf/"*-old "$r/var/log/"*.log \
    "$r/usr/share/doc" "$r/usr/share/man" "$r/usr/share/info" "$r/usr/share/locale" \
    "$r/usr/share/lintian" "$r/tmp/"* "$r/var/tmp/"*
  mkdir -p "$r/usr/share/doc"
  # debootstrap copies the build host's resolver and name in; the engine provides its own.
  : >"$r/etc/resolv.conf"
  echo localhost >"$r/etc/hostname"
}

step_tar() { # rootfs tarball
  tar --numeric-owner -C "$1" -cf "$2.part" .
  mv "$2.part" "$2"
}

recipe_changes() { # name file hash: the recipe's Dockerfile instructions for import or commit, one a
  # line without blanks and comments, then the labels that name the image and its recipe hash
  local line
  while IFS= read -r line; do
    case "$line" in '' | '#'*) continue ;; esac
    printf '%s\n' "$line"
  done <"$RECIPES/$1/$2"
  printf 'LABEL %s=%s\nLABEL org.owui-test.name=%s\n' "$LABEL_RECIPE" "$3" "$1"
}

step_import() { # name tarball tag hash
  local name=$1 tarball=$2 tag=$3 hash=$4 line changes=()
  while IFS= read -r line; do changes+=(--change "$line"); done < <(recipe_changes "$name" import-changes "$hash")
  docker import "${changes[@]}" "$tarball" "$tag"
}

# A derived image: a container of the base runs the recipe's customize.sh (if any) with the pins as
# arguments (not as environment, which `docker commit` would keep) and the host's CA bundle mounted
# for pip; the commit restores the base's ENTRYPOINT and CMD, then applies commit-changes.
step_derive() { # name base_tag tag hash
  local name=$1 base=$2 tag=$3 hash=$4 cname="owui-images-derive-$1-$$" line changes=() pins=() p json entrypoint override
  for p in ${PINS[$name]:-}; do pins+=("$p"); done
  docker rm -f "$cname" >/dev/null 2>&1 || true
  entrypoint=$(docker image inspect --format '{{json .Config.Entrypoint}}' "$base")
  if [ -x "$RECIPES/$name/customize.sh" ]; then
    # `docker commit --change 'ENTRYPOINT []'` does not clear an entrypoint: override one only where the
    # base has one, which the commit then puts back.
    override=()
    [ "$entrypoint" = null ] || override=(--entrypoint /bin/sh)
    docker run --name "$cname" --user 0 ${override[@]+"${override[@]}"} \
      --mount "type=bind,source=$RECIPES/$name,target=/run/recipe,readonly" \
      --mount "type=bind,source=$HOST_CA_BUNDLE,target=/run/host-ca.crt,readonly" \
      "$base" /run/recipe/customize.sh ${pins[@]+"${pins[@]}"}
  else
    docker create --name "$cname" "$base" >/dev/null
  fi
  [ "$entrypoint" = null ] || changes+=(--change "ENTRYPOINT $entrypoint")
  json=$(docker image inspect --format '{{json .Config.Cmd}}' "$base")
  [ "$json" = null ] || changes+=(--change "CMD $json")
  while IFS= read -r line; do changes+=(--change "$line"); done < <(recipe_changes "$name" commit-changes "$hash")
  docker commit "${changes[@]}" "$cname" "$tag"
  docker rm "$cname"
}

step_smoke() { # name tag
  local name=$1 tag=$2 out
  if [ -n "${BASE[$name]:-}" ]; then
    out=$(docker image inspect --format '{{json .Config.Entrypoint}}' "$tag")
    [ "$out" = "$(docker image inspect --format '{{json .Config.Entrypoint}}' "${IMAGE[${BASE[$name]}]}")" ] ||
      { echo "the entrypoint $out is not the base image's"; return 1; }
  fi
  case "$name" in
    valkey)
      out=$(docker run --rm --network none --entrypoint valkey-server "$tag" --version)
      echo "$out"
      case "$out" in *"v=$(pin valkey VALKEY_SERIES)."*) ;; *)
        echo "the tag promises Valkey $(pin valkey VALKEY_SERIES), Debian ${SUITE[valkey]} ships: $out"
        return 1 ;; esac ;;
    open-webui)
      out=$(docker run --rm --network none --entrypoint python "$tag" -c \
        'import importlib.metadata as m; print(m.version("open-webui"), m.version("torch"))')
      echo "$out"
      [ "$out" = "$(pin open-webui OPEN_WEBUI_VERSION) $(pin open-webui TORCH_VERSION)" ] ||
        { echo "unexpected versions (open-webui torch): $out"; return 1; } ;;
    postgres)
      out=$(docker run --rm --network none --entrypoint postgres "$tag" --version)
      echo "$out"
      case "$out" in *" $(pin postgres POSTGRES_MAJOR)."*) ;; *)
        echo "the tag promises PostgreSQL $(pin postgres POSTGRES_MAJOR), Debian ${SUITE[postgres]} ships: $out"
        return 1 ;; esac
      docker run --rm --network none --entrypoint pg_isready "$tag" --version ;;
    nginx)
      out=$(docker run --rm --network none "$tag" nginx -v 2>&1)
      echo "$out"
      case "$out" in *"nginx/$(pin nginx NGINX_SERIES)."*) ;; *)
        echo "the tag promises nginx $(pin nginx NGINX_SERIES), Debian ${SUITE[nginx]} ships: $out"
        return 1 ;; esac
      docker run --rm --network none "$tag" nginx -t ;;
    open-webui-0.12.3)
      out=$(docker run --rm --network none --entrypoint python "$tag" -c \
        'import importlib.metadata as m; print(m.version("open-webui"), m.version("torch"))')
      echo "$out"
      [ "$out" = "$(pin "$name" OPEN_WEBUI_VERSION) $(pin "$name" TORCH_VERSION)" ] ||
        { echo "unexpected versions (open-webui torch): $out"; return 1; } ;;
    open-webui-never-healthy)
      if docker run --rm --network none "$tag"; then echo "the never-healthy image started"; return 1; fi ;;
    valkey-next)
      docker run --rm --network none --entrypoint valkey-server "$tag" --version
      [ "$(docker image inspect --format '{{.Id}}' "$tag")" != "$(docker image inspect --format '{{.Id}}' "${IMAGE[valkey]}")" ] ||
        { echo "$tag has the same image id as ${IMAGE[valkey]}"; return 1; } ;;
  esac
}

step_promote() { # tmp_tag final old_tarballs...
  local tmp=$1 final=$2
  shift 2
  docker tag "$tmp" "$final"
  docker rmi "$tmp"
  rm -f "$@"
}

# ---- commands --------------------------------------------------------------------------------
build_one() {
  local name=$1 hash final tmp tarball rootfs old=() f start
  hash=$(recipe_hash "$name")
  final=${IMAGE[$name]}
  if [ "$(image_recipe_label "$final")" = "$hash" ]; then
    say "$final cached (recipe $hash)"
    return 0
  fi
  [ -z "${BASE[$name]:-}" ] || build_one "${BASE[$name]}"
  start=$SECONDS
  CURRENT_NAME=$name
  LOG="$LOG_DIR/images-$name.log"
  : >"$LOG"
  tmp="${final%%:*}:building-$hash"
  if [ -n "${BASE[$name]:-}" ]; then
    say "$name: recipe $hash, deriving from ${IMAGE[${BASE[$name]}]} (log: $LOG)"
    run_step "derive $tmp from ${IMAGE[${BASE[$name]}]}" step_derive "$name" "${IMAGE[${BASE[$name]}]}" "$tmp" "$hash"
    run_step "smoke test $tmp" step_smoke "$name" "$tmp"
    run_step "tag $final" step_promote "$tmp" "$final"
    say "$final ready (recipe $hash, $((SECONDS - start)) s)"
    return 0
  fi
  tarball="$CACHE_DIR/$name-$hash.tar"
  for f in "$CACHE_DIR/$name-"*.tar; do [ "$f" = "$tarball" ] || [ ! -e "$f" ] || old+=("$f"); done

  if [ -s "$tarball" ]; then
    say "$name: recipe $hash, re-importing the cached rootfs $tarball (log: $LOG)"
  else
    say "$name: recipe $hash, building (log: $LOG)"
    BUILD_DIR=$(mktemp -d "$WORK_PARENT/owui-images-$name.XXXXXX")
    rootfs="$BUILD_DIR/rootfs"
    run_step "debootstrap ${SUITE[$name]}" step_debootstrap "$rootfs" "${SUITE[$name]}" "${PACKAGES[$name]}"
    run_step "customize in chroot" step_customize "$name" "$rootfs"
    run_step "strip docs, man pages, apt lists" step_scrub "$rootfs"
    run_step "tar the rootfs" step_tar "$rootfs" "$tarball"
    cleanup
    BUILD_DIR=
  fi
  run_step "docker import as $tmp" step_import "$name" "$tarball" "$tmp" "$hash"
  run_step "smoke test $tmp" step_smoke "$name" "$tmp"
  run_step "tag $final" step_promote "$tmp" "$final" ${old[@]+"${old[@]}"}
  say "$final ready (recipe $hash, $(docker image inspect --format '{{.Size}}' "$final" |
    awk '{printf "%.0f MB", $1/1e6}'), $((SECONDS - start)) s)"
}

cmd_build() {
  local names=("$@") name
  [ ${#names[@]} -gt 0 ] || names=("${IMAGES[@]}")
  for name in "${names[@]}"; do
    [ -n "${IMAGE[$name]+x}" ] || die "unknown image '$name'; known: ${IMAGES[*]}"
  done
  [ "$(id -u)" = 0 ] || die "building needs root (debootstrap, chroot, mount)"
  docker info >/dev/null 2>&1 || die "no Docker engine answers; start one with hack/engine.sh start"
  command -v debootstrap >/dev/null || die "debootstrap is missing: apt-get install debootstrap"
  mkdir -p "$LOG_DIR" "$CACHE_DIR"
  # One build at a time on this machine: two would write the same tarballs and tags.
  exec 9>"$CACHE_DIR/.lock"
  flock -w 1800 9 || die "another hack/images.sh build holds $CACHE_DIR/.lock"
  for name in "${names[@]}"; do build_one "$name"; done
}

cmd_list() {
  local name hash have state
  for name in "${IMAGES[@]}"; do
    hash=$(recipe_hash "$name")
    have=$(image_recipe_label "${IMAGE[$name]}")
    if [ "$have" = "$hash" ]; then state=present
    elif [ -n "$have" ]; then state="stale (engine has $have)"
    elif docker image inspect "${IMAGE[$name]}" >/dev/null 2>&1; then state="stale (no recipe label)"
    else state=missing
    fi
    printf '%-40s %s %s\n' "${IMAGE[$name]}" "$hash" "$state"
  done
}

case "${1:-}" in
  build) shift; cmd_build "$@" ;;
  list) cmd_list ;;
  env)
    printf 'export OWUI_TEST_VALKEY_IMAGE=%s\nexport OWUI_TEST_OPEN_WEBUI_IMAGE=%s\n' "${IMAGE[valkey]}" "${IMAGE[open-webui]}"
    printf 'export OWUI_TEST_POSTGRES_IMAGE=%s\nexport OWUI_TEST_NGINX_IMAGE=%s\n' "${IMAGE[postgres]}" "${IMAGE[nginx]}"
    printf 'export OWUI_TEST_OPEN_WEBUI_OLD_IMAGE=%s\nexport OWUI_TEST_OPEN_WEBUI_BROKEN_IMAGE=%s\n' \
      "${IMAGE[open-webui-0.12.3]}" "${IMAGE[open-webui-never-healthy]}"
    printf 'export OWUI_TEST_VALKEY_NEXT_IMAGE=%s\n' "${IMAGE[valkey-next]}" ;;
  *) die "usage: $0 build [${IMAGES[*]}] | list" ;;
esac
