#!/usr/bin/env bash
# `make test`: every test this repository has, against the real engine and images.
set -euo pipefail
cd "$(dirname "$0")/.."

scenarios=${SCENARIOS:-$(find molecule -mindepth 2 -maxdepth 2 -name molecule.yml -printf '%h\n' | xargs -n1 basename | sort)}
eval "$(hack/images.sh env)"
step() { printf '\n== %s  (%s, %d s into make test)\n' "$*" "$(date +%T)" "$SECONDS"; }
trap 'printf "\n== make test ended after %d s\n" "$SECONDS"' EXIT

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

step "fresh-machine test: make setup on a clean Debian 12 root file system"
hack/fresh-test.sh

step "newest Ansible: unit tests, ansible-doc and molecule default on ansible 14 (community.docker 5)"
hack/compat-test.sh

for s in $scenarios; do
  step "molecule scenario: $s"
  start=$SECONDS
  molecule test -s "$s"
  printf '== molecule scenario %s passed in %d s\n' "$s" $((SECONDS - start))
done

step "integration tests (real containers)"
# The slowest tests are listed at the end, for keeping make test within its time.
pytest -q -m integration --durations=15 tests/integration
