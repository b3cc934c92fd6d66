"""Fixtures every molecule scenario's testinfra tests share: the scenario's variables, the secrets
the roles generated, the deployed containers read back from the engine, and a throwaway client
container on the scenario's network."""

from __future__ import annotations

import json
import os
import subprocess

import docker
import pytest


@pytest.fixture(scope="module")
def hostvars(host):
    return host.ansible.get_variables()


@pytest.fixture(scope="module")
def secrets(hostvars):
    """The generated passwords, read from where the roles keep them on the controller."""
    def read(directory, name):
        with open(f"{directory}/{name}", encoding="utf-8") as handle:
            return handle.read().split()[0]
    return {
        "valkey_admin": read(hostvars["valkey_credentials_dir"], "valkey-admin.password"),
        "valkey_open_webui": read(hostvars["valkey_credentials_dir"], "valkey-open-webui.password"),
        "webui_secret_key": read(hostvars["open_webui_credentials_dir"], "webui-secret-key"),
    }


@pytest.fixture(scope="module")
def engine(hostvars):
    """The scenario host's Docker engine: a test host's own (``owui_test_docker_host``), else this machine's."""
    address = hostvars.get("owui_test_docker_host")
    client = docker.DockerClient(base_url=address) if address else docker.from_env()
    yield client
    client.close()


def _container(engine, name):
    try:
        return engine.containers.get(name)
    except docker.errors.NotFound:
        pytest.fail(f"container {name} does not exist")


@pytest.fixture(scope="module")
def last_log_lines():
    """``last_log_lines(container)``: a failing assertion's message shows the container's log as evidence."""
    def show(container):
        return "\n--- last log lines of {} ---\n{}".format(
            container.name, container.logs(tail=30).decode(errors="replace"))
    return show


@pytest.fixture(scope="module")
def valkey(engine, hostvars):
    return _container(engine, hostvars["valkey_container_name"])


@pytest.fixture(scope="module")
def open_webui(engine, hostvars):
    return _container(engine, hostvars["open_webui_container_name"])


@pytest.fixture(scope="module")
def neighbour(engine, hostvars, valkey):
    """``neighbour(*args, env=None, mounts=None)`` runs valkey-cli in a new container on the scenario's
    network, as any other container there could, and returns what it printed (exit code ignored:
    valkey-cli reports refusals as text)."""

    def run(*args, env=None, volumes=None):
        container = engine.containers.create(
            valkey.image.id, ["valkey-cli", *args], entrypoint=[], network=hostvars["network_name"],
            environment=env or {}, volumes=volumes or {})
        try:
            container.start()
            container.wait(timeout=60)
            return container.logs(stdout=True, stderr=True).decode(errors="replace").strip()
        finally:
            # v=True: the image declares /data a volume; leave no anonymous volume behind.
            container.remove(v=True, force=True)

    return run


@pytest.fixture(scope="module")
def websocket_check(host, hostvars, secrets):
    """``websocket_check(**options)`` runs owui.realtime.websocket_check against the scenario's stack
    (admin login, db 1, Open WebUI's published port) with the given options on top; testinfra hands
    back the result without its "failed" flag, so callers judge by ``checks`` and ``causes``."""

    def run(**options):
        args = {
            "valkey_container": hostvars["valkey_container_name"],
            "valkey_password": secrets["valkey_admin"],
            "valkey_db": 1,
            "open_webui_containers": [hostvars["open_webui_container_name"]],
            "open_webui_url": f"http://127.0.0.1:{hostvars['open_webui_port']}",
            **options,
        }
        return host.ansible("owui.realtime.websocket_check", json.dumps(args), check=False)

    return run


@pytest.fixture(scope="module")
def verify_playbook():
    """``verify_playbook(*extra_args)`` runs owui.realtime.verify on its own against the scenario's
    inventory, as an operator would after a deploy, and returns (exit code, output)."""

    def run(*extra_args):
        proc = subprocess.run(
            ["ansible-playbook", "-i", os.environ["MOLECULE_INVENTORY_FILE"], "owui.realtime.verify", *extra_args],
            capture_output=True, text=True, timeout=600, check=False,
            env=dict(os.environ, ANSIBLE_NOCOLOR="1"))
        return proc.returncode, proc.stdout + proc.stderr

    return run
