# owui.realtime — every target sets up what it needs first.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV        := .venv
BIN         := $(VENV)/bin
export PATH := $(CURDIR)/$(BIN):$(PATH)
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
export ANSIBLE_COLLECTIONS_PATH := $(CURDIR)/.cache/collections
export ANSIBLE_COLLECTIONS_SCAN_SYS_PATH := true
export PYTHONDONTWRITEBYTECODE := 1
COLLECTION_LINK := .cache/collections/ansible_collections/owui/realtime
SCENARIOS   ?= $(sort $(notdir $(patsubst %/molecule.yml,%,$(wildcard molecule/*/molecule.yml))))
INVENTORY   ?= tests/inventory/localhost.yml

.PHONY: help setup host-tools venv engine images deploy verify teardown test fresh-test compat-test awx-test lint sanity unit molecule integration bench changelog clean pins

help: ## List the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | expand -t 14

setup: host-tools venv engine images ## Host commands, venv, Docker engine and offline test images (idempotent)

host-tools: ## Install the host commands setup and the tests call (Debian packages)
	@hack/host-tools.sh install

venv: $(VENV)/.installed $(COLLECTION_LINK) ## Python venv with the pinned controller and test tools

$(VENV)/.installed: requirements/test.in requirements/constraints.txt
	@echo "[setup] creating $(VENV) from requirements/test.in (log: .cache/pip.log)"
	@mkdir -p .cache
	@test -x $(BIN)/python || python3 -m venv $(VENV)
	@$(BIN)/pip install -q -r requirements/test.in -c requirements/constraints.txt >.cache/pip.log 2>&1 \
	  || { echo "[setup] FAILED at step 'pip install' — see .cache/pip.log"; tail -n 5 .cache/pip.log; exit 1; }
	@touch $@

$(COLLECTION_LINK):
	@mkdir -p $(dir $@)
	@ln -sfn ../../../.. $@

engine: host-tools ## Start a Docker engine unless one already answers
	@hack/engine.sh start

images: engine ## Build the offline test images (cached by recipe hash)
	@hack/images.sh build

deploy: setup ## Deploy and verify the stack on localhost
	@hack/deploy.sh

verify: venv ## Verify a deployed stack on localhost
	@ansible-playbook -i $(INVENTORY) owui.realtime.verify $(DEPLOY_ARGS)

teardown: venv ## Remove the localhost stack (volumes kept; PURGE=1 deletes them)
	@ansible-playbook -i $(INVENTORY) owui.realtime.teardown $(if $(PURGE),-e purge=true)

test: setup ## Run every test: lint, unit, molecule scenarios, integration
	@hack/test.sh

fresh-test: host-tools engine images ## make setup on a clean Debian 12 root file system (also part of make test)
	@hack/fresh-test.sh

compat-test: host-tools engine images ## The collection on the newest Ansible (trixie, Python 3.13, community.docker 5; also part of make test)
	@hack/compat-test.sh

awx-test: setup ## The collection as AWX runs it: EE built by ansible-builder (hack/ee.sh), jobs by ansible-runner in it (slow; release checklist)
	@eval "$$(hack/images.sh env)" && pytest -q -m integration tests/awx

lint: venv ## ansible-lint (production profile) and ruff
	@ruff check plugins tests hack molecule
	@ansible-lint --profile production

sanity: venv ## ansible-test sanity and antsibull-docs lint-collection-docs, on a copy in .cache/sanity
	@hack/sanity.sh

unit: venv ## Unit tests (no Docker)
	@pytest -q tests/unit

molecule: setup ## Molecule scenarios (SCENARIOS="default ...")
	@for s in $(SCENARIOS); do molecule test -s $$s || exit 1; done

integration: setup ## Integration tests against real containers
	@pytest -q -m integration tests/integration

bench: setup ## Measure deploy and check times against docker compose (medians)
	@command -v docker-compose >/dev/null || apt-get install -y -qq docker-compose >/dev/null 2>&1 || true
	@eval "$$(hack/images.sh env)" && python hack/bench.py

changelog: venv ## Check the changelog fragments and render CHANGELOG.rst
	@antsibull-changelog lint
	@antsibull-changelog generate

pins: ## Refresh requirements/constraints.txt from the current venv
	@$(BIN)/pip freeze --exclude-editable | grep -vE '^(pip|setuptools|wheel)==' > requirements/constraints.txt

clean: ## Remove the venv and caches (images and volumes stay)
	rm -rf $(VENV) .cache .pytest_cache .ruff_cache
