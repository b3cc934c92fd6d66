#!/usr/bin/env bash
# `make test`: every test this repository has, against the real engine and images.
#
# After the quick checks, two tracks run side by side, since most of their time is one Open WebUI
# starting at a time and the machine has two cores:
#   hosts:  the newest-Ansible test and the molecule scenarios that run on SSH test hosts (each test
#           host has its own Docker engine);
#   engine: the fresh-machine test, the scenarios on this machine's engine and the integration tests.
# Each line of a track's output starts with its name. OWUI_TEST_SERIAL=1 runs the tracks one after the
# other instead; SCENARIOS="a b" limits the molecule scenarios.
set -Eeuo pipefail
cd "$(dirname "$0")/.."

scenarios=${SCENARIOS:-$(find molecule -mindepth 2 -maxdepth 2 -name molecule.yml -printf '%h\n' | xargs -n1 basename | sort)}
eval "$(hack/images.sh env)"
step() { printf '\n== %s  (%s, %d s into make test)\n' "$*" "$(date +%T)" "$SECONDS"; }
LOGS=.cache/test
mkdir -p "$LOGS"

started_registry=0
finish() {
  local rc=$?
  if [ "$started_registry" = 1 ]; then OWUI_TESTHOST_KEEP_REGISTRY=0 hack/testhost.sh registry-stop >/dev/null || true; fi
  printf '\n== make test ended after %d s (exit %d)\n' "$SECONDS" "$rc"
}
trap finish EXIT

step "lint: ruff"
ruff check plugins tests hack molecule
step "lint: ansible-lint (production profile)"
ansible-lint --profile production
step "changelog fragments"
antsibull-changelog lint
step "sanity: ansible-test sanity and antsibull-docs lint-collection-docs"
hack/sanity.sh

step "unit tests"
pytest -q tests/unit

on_test_hosts() { grep -q 'owui_testhost:' "molecule/$1/molecule.yml"; }

scenario() {
  local start=$SECONDS
  step "molecule scenario: $1"
  molecule test -s "$1"
  printf '== molecule scenario %s passed in %d s\n' "$1" $((SECONDS - start))
}

track_hosts() {
  step "newest Ansible: unit tests, ansible-doc and molecule default on ansible 14 (community.docker 5)"
  hack/compat-test.sh
  for s in $scenarios; do if on_test_hosts "$s"; then scenario "$s"; fi; done
}

track_engine() {
  step "fresh-machine test: make setup on a clean Debian 12 root file system"
  hack/fresh-test.sh
  for s in $scenarios; do if ! on_test_hosts "$s"; then scenario "$s"; fi; done
  step "integration tests (real containers)"
  # The slowest tests are listed at the end, for keeping make test within its time.
  pytest -q -m integration --durations=15 tests/integration
}

# Both tracks use the test hosts' registry (the integration tests' SSH hosts too): it runs until both
# end, and is stopped then only if this run started it.
registry_said=$(hack/testhost.sh registry)
echo "$registry_said"
case $registry_said in *"(storage"*) started_registry=1 ;; esac
export OWUI_TESTHOST_KEEP_REGISTRY=1

run_track() { # name: run track_<name>, its lines prefixed with the name; its exit code in $LOGS/<name>.rc
  local name=$1
  set +e
  ( set -Eeuo pipefail; "track_$name" ) 2>&1 | stdbuf -oL sed "s/^/[$name] /"
  echo "${PIPESTATUS[0]}" >"$LOGS/$name.rc"
  set -e
}

if [ "${OWUI_TEST_SERIAL:-0}" = 1 ]; then
  run_track hosts
  run_track engine
else
  step "two tracks side by side: hosts (SSH test hosts) and engine (this machine's engine)"
  run_track hosts & hosts_pid=$!
  run_track engine & engine_pid=$!
  wait "$hosts_pid" "$engine_pid"
fi
failed=""
for name in hosts engine; do
  rc=$(cat "$LOGS/$name.rc")
  printf '== track %s: %s\n' "$name" "$([ "$rc" = 0 ] && echo passed || echo "FAILED (exit $rc)")"
  [ "$rc" = 0 ] || failed="$failed $name"
done
[ -z "$failed" ] || { printf '== failed tracks:%s (their lines start with [name])\n' "$failed"; exit 1; }
