"""A port the deployment publishes that something else already holds: refused before anything changes,
naming the variable, the port and the holder (a container by name, a host process by name and pid).

The re-deploy of a stack on its own port (its own container holds it) is the positive control here in check
mode; test_playbooks.py's re-deploy runs the same check for real and must stay green and unchanged."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from playbook import ROOT, free_port, leftovers, run_playbook

pytestmark = pytest.mark.integration
STACK_KIND = "ports"

NGINX_IMAGE = os.environ.get("OWUI_TEST_NGINX_IMAGE", "localhost/owui-test/nginx:1.22")
POSTGRES_IMAGE = os.environ.get("OWUI_TEST_POSTGRES_IMAGE", "localhost/owui-test/postgres:15")
LOADBALANCER_PLAYBOOK = ROOT / "tests" / "integration" / "playbooks" / "loadbalancer.yml"
POSTGRES_PLAYBOOK = ROOT / "tests" / "integration" / "playbooks" / "postgres.yml"


@pytest.fixture
def holder(engine, require_image):
    """`holder(name, port)`: an nginx container publishing port on every IPv4 address, removed afterwards."""
    made = []

    def start(name: str, port: int):
        container = engine.containers.run(require_image(NGINX_IMAGE), name=name, detach=True,
                                          ports={"80/tcp": ("0.0.0.0", port)})
        made.append(container)
        return container

    yield start
    for container in made:
        container.remove(force=True)


@pytest.fixture
def http_server():
    """`http_server(address, port)`: python's http.server bound there, a process of this host."""
    made = []

    def start(address: str, port: int) -> subprocess.Popen:
        proc = subprocess.Popen([sys.executable, "-m", "http.server", "--bind", address, str(port)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        made.append(proc)
        for _attempt in range(100):
            if f":{port:04X} " in Path("/proc/net/tcp").read_text():
                return proc
            time.sleep(0.05)
        raise AssertionError(f"http.server did not listen on {address}:{port}")

    yield start
    for proc in made:
        proc.terminate()
        proc.wait(timeout=10)


def test_a_port_another_container_publishes_is_refused_before_anything_exists(engine, stack, holder):
    prefix, extra = stack
    holder_name = f"pf-holder-{prefix[-6:]}"
    holder(holder_name, extra["open_webui_port"])

    run = run_playbook("deploy", extra)
    assert run.returncode != 0, run.output[-3000:]
    assert f"open_webui_port {extra['open_webui_port']}" in run.output, run.output[-3000:]
    assert f"container '{holder_name}' (publishes 0.0.0.0:{extra['open_webui_port']})" in run.output, run.output[-3000:]
    assert f"docker stop {holder_name}" in run.output
    assert run.changed == 0
    assert leftovers(engine, prefix) == [], "the refused deploy left something of the stack behind"


def test_the_stacks_own_container_on_its_port_passes(engine, stack, holder):
    # Positive control: the same kind of container holding the port, but it is the stack's own Open WebUI.
    _prefix, extra = stack
    holder(extra["open_webui_container_name"], extra["open_webui_port"])

    run = run_playbook("deploy", extra, check=True)
    assert run.returncode == 0, run.output[-4000:]
    assert "Refuse a port that something else holds" in run.output, "the port check did not run"


@pytest.mark.parametrize("variable", ["open_webui_port", "valkey_published_port"])
def test_a_port_a_host_process_listens_on_is_refused_naming_the_process(engine, stack, http_server, variable):
    prefix, extra = stack
    port = extra["open_webui_port"] if variable == "open_webui_port" else free_port()
    extra = {**extra, variable: port}
    if variable == "valkey_published_port":
        extra["valkey_published_address"] = "127.0.0.1"
    server = http_server("0.0.0.0", port)

    run = run_playbook("deploy", extra)
    assert run.returncode != 0, run.output[-3000:]
    assert f"{variable} {port}" in run.output, run.output[-3000:]
    assert f"(pid {server.pid}) listening on 0.0.0.0:{port}" in run.output, run.output[-3000:]
    assert run.changed == 0
    assert leftovers(engine, prefix) == []


def test_a_process_on_another_address_of_the_same_port_is_no_conflict(engine, stack, http_server):
    # Positive control for the bind address: 127.0.0.2:port does not keep Docker from 127.0.0.1:port.
    prefix, extra = stack
    http_server("127.0.0.2", extra["open_webui_port"])

    run = run_playbook("deploy", extra, check=True)
    assert run.returncode == 0, run.output[-4000:]
    assert leftovers(engine, prefix) == []


def test_the_load_balancers_port_is_checked_too(engine, stack, holder):
    prefix, extra = stack
    port = free_port()
    holder_name = f"pf-holder-{prefix[-6:]}"
    holder(holder_name, port)
    lb = {"network_name": extra["network_name"], "loadbalancer_image": NGINX_IMAGE, "loadbalancer_pull": "never",
          "loadbalancer_container_name": f"{prefix}-lb", "loadbalancer_port": port,
          "loadbalancer_upstreams": ["replica:8080"]}

    run = run_playbook(LOADBALANCER_PLAYBOOK, lb)
    assert run.returncode != 0, run.output[-3000:]
    assert f"loadbalancer_port {port}" in run.output and f"container '{holder_name}'" in run.output, run.output[-3000:]
    assert leftovers(engine, prefix) == []


def test_postgresql_s_published_port_is_checked_too(engine, stack, http_server, tmp_path):
    prefix, extra = stack
    port = free_port()
    server = http_server("127.0.0.1", port)
    pg = {"network_name": extra["network_name"], "postgres_image": POSTGRES_IMAGE, "postgres_pull": "never",
          "postgres_container_name": f"{prefix}-pg", "postgres_volume_name": f"{prefix}-pg-data",
          "postgres_credentials_dir": str(tmp_path / "credentials"),
          "postgres_publish_address": "127.0.0.1", "postgres_publish_port": port}

    run = run_playbook(POSTGRES_PLAYBOOK, pg)
    assert run.returncode != 0, run.output[-3000:]
    assert f"postgres_publish_port {port}" in run.output, run.output[-3000:]
    assert f"(pid {server.pid}) listening on 127.0.0.1:{port}" in run.output, run.output[-3000:]
    assert leftovers(engine, prefix) == []
