"""The loadbalancer role on the real engine, with the offline nginx image in front of two stand-in
replicas (tests/integration/files/socketio_replica.py: python-socketio and uvicorn, as Open WebUI serves
them, in the Open WebUI test image): requests reach both replicas with the forwarded headers, a websocket
upgrade passes on /ws/ (and fails where the headers are not passed), a failed replica is left out, a
second run changes nothing, a changed configuration recreates nginx, and an empty or malformed upstream
list stops before anything exists."""

from __future__ import annotations

import json
import os
import shutil
import socket
import time
from pathlib import Path

import docker
import pytest
import requests
import socketio
from playbook import OPEN_WEBUI_IMAGE, run_playbook

pytestmark = pytest.mark.integration

HERE = Path(__file__).parent
PLAYBOOK = HERE / "playbooks" / "loadbalancer.yml"
REPLICA_APP = HERE / "files" / "socketio_replica.py"
NGINX_IMAGE = os.environ.get("OWUI_TEST_NGINX_IMAGE", "localhost/owui-test/nginx:1.22")
CONFIG_ROOT = Path("/etc/owui-realtime")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def websocket_replica(base_url: str, path: str) -> dict:
    """Connect a Socket.IO client with the websocket transport only; return what the replica sent,
    or raise socketio.exceptions.ConnectionError when the upgrade does not get through."""
    client = socketio.Client(reconnection=False)
    received: dict = {}

    @client.on("replica")
    def on_replica(data):
        received.update(data)

    client.connect(base_url, socketio_path=path, transports=["websocket"], wait_timeout=10)
    try:
        deadline = time.monotonic() + 10
        while not received and time.monotonic() < deadline:
            client.sleep(0.1)
        return {**received, "client_transport": client.transport()}
    finally:
        client.disconnect()


class Balancer:
    """One test's nginx; cleanup removes its container and configuration directory by name (the
    replicas and the network belong to ``scratch``)."""

    def __init__(self, engine: docker.DockerClient, scratch) -> None:
        self.engine = engine
        self.container = scratch.name("lb")
        self.config_dir = CONFIG_ROOT / self.container
        self.network = scratch.name("net")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.vars = {
            "network_name": self.network,
            "loadbalancer_image": NGINX_IMAGE,
            "loadbalancer_pull": "never",
            "loadbalancer_container_name": self.container,
            "loadbalancer_port": self.port,
        }

    def run(self, **more):
        return run_playbook(PLAYBOOK, {**self.vars, **more})

    def get(self):
        try:
            return self.engine.containers.get(self.container)
        except docker.errors.NotFound:
            return None

    def existing(self) -> list[str]:
        found = [self.container] if self.get() else []
        found += [n.name for n in self.engine.networks.list(names=[self.network]) if n.name == self.network]
        found += [str(self.config_dir)] if self.config_dir.exists() else []
        return found

    def replicas_answering(self, count: int) -> list[str]:
        # Longer than loadbalancer_connect_timeout (3 s), after which nginx tries the next replica.
        return [requests.get(self.url + "/", timeout=15).json()["replica"] for _request in range(count)]

    def cleanup(self) -> None:
        container = self.get()
        if container:
            container.remove(force=True)
        shutil.rmtree(self.config_dir, ignore_errors=True)


@pytest.fixture
def balancer(docker_client, require_image, scratch):
    require_image(NGINX_IMAGE)
    space = Balancer(docker_client, scratch)
    yield space
    space.cleanup()


def start_replica(scratch, network: str, name: str):
    container = scratch.container(
        name, OPEN_WEBUI_IMAGE, network=network, environment={"REPLICA": name},
        entrypoint=["python", "/replica.py"], healthcheck={"test": ["NONE"]},
        volumes={str(REPLICA_APP): {"bind": "/replica.py", "mode": "ro"}})
    deadline = time.monotonic() + 60
    while True:
        container.reload()
        address = container.attrs["NetworkSettings"]["Networks"][network]["IPAddress"]
        try:
            if requests.get(f"http://{address}:8080/", timeout=2).json()["replica"] == name:
                return container, address
        except (requests.RequestException, ValueError):
            pass
        assert time.monotonic() < deadline, f"replica {name} did not answer:\n{scratch.logs()}"
        time.sleep(0.5)


@pytest.fixture
def replicas(scratch, balancer, require_image):
    require_image(OPEN_WEBUI_IMAGE)
    scratch.network("net")
    return {name: start_replica(scratch, balancer.network, name) for name in ("a", "b")}


def test_nginx_spreads_requests_passes_websockets_on_ws_and_leaves_out_a_failed_replica(balancer, replicas, scratch):
    upstreams = [f"{scratch.name(name)}:8080" for name in replicas]
    run = balancer.run(loadbalancer_upstreams=upstreams, loadbalancer_method="round_robin")
    assert run.returncode == 0, run.output[-3000:]
    container = balancer.get()
    host = container.attrs["HostConfig"]
    assert host["ReadonlyRootfs"] is True and host["CapDrop"] == ["ALL"]
    assert "no-new-privileges:true" in host["SecurityOpt"]
    assert set(host["Tmpfs"]) == {"/var/cache/nginx", "/var/lib/nginx", "/run", "/tmp"}
    assert host["PortBindings"] == {"80/tcp": [{"HostIp": "127.0.0.1", "HostPort": str(balancer.port)}]}
    assert host["Memory"] == 256 * 1024**2 and host["PidsLimit"] == 256
    assert host["LogConfig"] == {"Type": "json-file", "Config": {"max-size": "1m", "max-file": "1"}}

    # Plain HTTP reaches both replicas, with the client's Host and address passed on.
    answers = [requests.get(balancer.url + "/", timeout=10).json() for _request in range(6)]
    assert {a["replica"] for a in answers} == {"a", "b"}, answers
    assert {a["host"] for a in answers} == {f"127.0.0.1:{balancer.port}"}, answers
    assert all(a["x_forwarded_for"] for a in answers), answers

    # A websocket upgrade passes on /ws/ ...
    through = websocket_replica(balancer.url, "/ws/socket.io")
    assert through["client_transport"] == "websocket" and through["transport"] == "websocket", through
    assert through["name"] in {"a", "b"}
    # ... and not where nginx does not pass the Upgrade headers, although the replica itself serves a
    # websocket on that path (the control, straight to the replica): the headers on /ws/ make the difference.
    _container, address = replicas["a"]
    assert websocket_replica(f"http://{address}:8080", "/plain/socket.io")["name"] == "a"
    with pytest.raises(socketio.exceptions.ConnectionError):
        websocket_replica(balancer.url, "/plain/socket.io")

    second = balancer.run(loadbalancer_upstreams=upstreams, loadbalancer_method="round_robin")
    assert second.returncode == 0, second.output[-3000:]
    assert second.changed == 0, second.output[-3000:]
    assert balancer.get().id == container.id

    # The default method keeps one client on one replica; changing the method recreates nginx.
    sticky = balancer.run(loadbalancer_upstreams=upstreams)
    assert sticky.returncode == 0, sticky.output[-3000:]
    assert balancer.get().id != container.id, "a changed configuration did not recreate the container"
    assert "ip_hash;" in (balancer.config_dir / "open-webui.conf").read_text()
    served = set(balancer.replicas_answering(6))
    assert len(served) == 1, served

    # Passive health: the replica that served is stopped; every request still succeeds, on the other one,
    # and once max_fails (3) attempts failed nginx stops trying the stopped one: the last requests are quick.
    (chosen,) = served
    replicas[chosen][0].stop(timeout=2)
    other = ({"a", "b"} - served).pop()
    assert set(balancer.replicas_answering(4)) == {other}
    started = time.monotonic()
    assert set(balancer.replicas_answering(3)) == {other}
    assert time.monotonic() - started < 2, "nginx still tries the stopped replica after max_fails"


def test_the_default_configuration_is_published_on_loopback_only(balancer, replicas, scratch):
    run = balancer.run(loadbalancer_upstreams=[f"{scratch.name('a')}:8080"])
    assert run.returncode == 0, run.output[-3000:]
    bindings = balancer.get().attrs["HostConfig"]["PortBindings"]
    assert bindings == {"80/tcp": [{"HostIp": "127.0.0.1", "HostPort": str(balancer.port)}]}
    assert balancer.replicas_answering(2) == ["a", "a"]


def test_an_upstream_name_that_does_not_resolve_stops_the_role_at_once_with_nginx_s_words(balancer, replicas, scratch):
    # The positive control is the same list with the name spelled right (the tests above).
    started = time.monotonic()
    run = balancer.run(loadbalancer_upstreams=[f"{scratch.name('a')}:8080", f"{scratch.name('missing')}:8080"])
    took = time.monotonic() - started
    assert run.returncode != 0, run.output[-3000:]
    flat = " ".join(run.output.split())
    assert "stopped at start" in flat and f'host not found in upstream "{scratch.name("missing")}:8080"' in flat, \
        run.output[-3000:]
    assert took < 45, f"the role waited {took:.0f} s for an nginx that had already stopped"


# --- Both roles' contracts with a real Open WebUI ------------------------------------------------------

POSTGRES_PLAYBOOK = HERE / "playbooks" / "postgres.yml"
POSTGRES_IMAGE = os.environ.get("OWUI_TEST_POSTGRES_IMAGE", "localhost/owui-test/postgres:15")
SECOND = 1_000_000_000  # the Engine API counts health check intervals in nanoseconds
OPEN_WEBUI_HEALTHY_WITHIN = 240  # seconds; about 60 on an idle 2-core machine


@pytest.fixture
def postgres(docker_client, require_image, scratch, balancer, tmp_path):
    """PostgreSQL from the postgres role on the balancer's network; removed by name before the network."""
    require_image(POSTGRES_IMAGE)
    names = {"postgres_container_name": scratch.name("postgres"), "postgres_volume_name": scratch.name("pg-data")}
    extra = {"network_name": balancer.network, "postgres_image": POSTGRES_IMAGE, "postgres_pull": "never",
             "postgres_network_aliases": [scratch.name("db")], "postgres_credentials_dir": str(tmp_path / "credentials"),
             "result_file": str(tmp_path / "postgres.json"), **names}
    yield extra
    for container in docker_client.containers.list(all=True, filters={"name": f"^{names['postgres_container_name']}$"}):
        container.remove(force=True)
    for volume in docker_client.volumes.list(filters={"name": f"^{names['postgres_volume_name']}$"}):
        volume.remove(force=True)
    shutil.rmtree(CONFIG_ROOT / names["postgres_container_name"], ignore_errors=True)


def test_open_webui_on_the_postgres_url_serves_http_and_websockets_through_nginx(
        balancer, postgres, scratch, require_image, tmp_path):
    require_image(OPEN_WEBUI_IMAGE)
    scratch.network("net")
    deployed = run_playbook(POSTGRES_PLAYBOOK, postgres)
    assert deployed.returncode == 0, deployed.output[-3000:]
    url = json.loads((tmp_path / "postgres.json").read_text())["postgres_database_urls"]["network"]

    open_webui = scratch.container(
        "open-webui", OPEN_WEBUI_IMAGE, network=balancer.network,
        environment={"DATABASE_URL": url, "WEBUI_SECRET_KEY": "k" * 40, "ENABLE_WEBSOCKET_SUPPORT": "true"},
        healthcheck={"interval": 2 * SECOND, "timeout": 10 * SECOND, "retries": 3})
    run = balancer.run(loadbalancer_upstreams=[f"{open_webui.name}:8080"])
    assert run.returncode == 0, run.output[-3000:]

    deadline = time.monotonic() + OPEN_WEBUI_HEALTHY_WITHIN
    while True:
        open_webui.reload()
        state = open_webui.attrs["State"]
        assert state["Status"] == "running", f"Open WebUI stopped: exit {state['ExitCode']}"
        if state["Health"]["Status"] == "healthy":
            break
        assert time.monotonic() < deadline, f"Open WebUI not healthy within {OPEN_WEBUI_HEALTHY_WITHIN} s"
        time.sleep(2)

    # Through nginx: Open WebUI's health, and a Socket.IO handshake on its own path, websocket transport only.
    assert requests.get(balancer.url + "/health", timeout=10).json() == {"status": True}
    client = socketio.Client(reconnection=False)
    client.connect(balancer.url, socketio_path="/ws/socket.io", transports=["websocket"], wait_timeout=20)
    try:
        assert client.transport() == "websocket" and client.get_sid("/")
    finally:
        client.disconnect()

    # Open WebUI keeps its data in PostgreSQL, not in SQLite: its tables are in the role's database.
    pg = scratch.client.containers.get(postgres["postgres_container_name"])
    password = (tmp_path / "credentials" / "postgres.password").read_text().strip()
    code, out = pg.exec_run(["psql", "--no-psqlrc", "--host=127.0.0.1", "--username=openwebui", "--dbname=openwebui",
                             "-tAc", "SELECT count(*) FROM information_schema.tables WHERE table_name = 'user'"],
                            environment={"PGPASSWORD": password})
    assert (code, out.decode().strip()) == (0, "1"), out
    code, _out = open_webui.exec_run(["test", "-e", "/app/backend/data/webui.db"])
    assert code != 0, "Open WebUI created a SQLite database although DATABASE_URL points at PostgreSQL"


REFUSALS = [
    pytest.param([], "loadbalancer_upstreams is empty: a load balancer without any replica", id="no-replica"),
    pytest.param(["open-webui"], "Every entry of loadbalancer_upstreams must be host:port", id="no-port"),
    pytest.param(["open-webui:70000"], "Every entry of loadbalancer_upstreams must be host:port", id="port-out-of-range"),
]


@pytest.mark.parametrize(("upstreams", "message"), REFUSALS)
def test_a_refused_upstream_list_stops_before_anything_exists(balancer, upstreams, message):
    # The positive controls are the tests above: the same playbook with replicas creates everything.
    run = balancer.run(loadbalancer_upstreams=upstreams)
    assert run.returncode != 0, run.output[-3000:]
    assert message in " ".join(run.output.split()), f"the error does not say {message!r}:\n{run.output[-3000:]}"
    assert run.changed == 0
    assert balancer.existing() == []
