"""The postgres role on the real engine, with the offline PostgreSQL image: health, the generated
password (and a wrong one refused), data kept across re-deploys, changed=0 on a second run, purge, and
each preflight refusal stopping before anything exists."""

from __future__ import annotations

import json
import os
import shutil
import socket
import stat
import subprocess
from pathlib import Path

import docker
import pytest
from playbook import run_playbook, unique_prefix

pytestmark = pytest.mark.integration

PLAYBOOK = Path(__file__).parent / "playbooks" / "postgres.yml"
POSTGRES_IMAGE = os.environ.get("OWUI_TEST_POSTGRES_IMAGE", "localhost/owui-test/postgres:15")
CONFIG_ROOT = Path("/etc/owui-realtime")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Stack:
    """The names one test's PostgreSQL uses; cleanup removes exactly these."""

    def __init__(self, engine: docker.DockerClient, tmp_path: Path) -> None:
        self.engine = engine
        self.prefix = unique_prefix("pg")
        self.container = f"{self.prefix}-postgres"
        self.volume = f"{self.prefix}-data"
        self.network = f"{self.prefix}-net"
        self.config_dir = CONFIG_ROOT / self.container
        self.credentials = tmp_path / "credentials"
        self.result_file = tmp_path / "result.json"
        self.vars = {
            "network_name": self.network,
            "postgres_image": POSTGRES_IMAGE,
            "postgres_pull": "never",
            "postgres_container_name": self.container,
            "postgres_volume_name": self.volume,
            "postgres_network_aliases": [f"{self.prefix}-db"],
            "postgres_credentials_dir": str(self.credentials),
            "result_file": str(self.result_file),
        }

    def run(self, **more):
        return run_playbook(PLAYBOOK, {**self.vars, **more})

    def get(self):
        try:
            return self.engine.containers.get(self.container)
        except docker.errors.NotFound:
            return None

    def volume_exists(self) -> bool:
        return bool(self.engine.volumes.list(filters={"name": f"^{self.volume}$"}))

    def existing(self) -> list[str]:
        found = [self.container] if self.get() else []
        found += [self.volume] if self.volume_exists() else []
        found += [n.name for n in self.engine.networks.list(names=[self.network]) if n.name == self.network]
        found += [str(self.config_dir)] if self.config_dir.exists() else []
        return found

    def psql(self, sql: str, password: str, user: str = "openwebui") -> tuple[int, str]:
        """psql over TCP inside the container, the password by environment."""
        code, out = self.get().exec_run(
            ["psql", "--no-psqlrc", "--host=127.0.0.1", f"--username={user}", "--dbname=openwebui",
             "--tuples-only", "--no-align", f"--command={sql}"],
            environment={"PGPASSWORD": password})
        return code, out.decode(errors="replace").strip()

    def cleanup(self) -> None:
        container = self.get()
        if container:
            container.remove(force=True)
        for volume in self.engine.volumes.list(filters={"name": f"^{self.volume}$"}):
            volume.remove(force=True)
        for network in self.engine.networks.list(names=[self.network]):
            if network.name == self.network:
                network.remove()
        shutil.rmtree(self.config_dir, ignore_errors=True)


@pytest.fixture
def stack(docker_client, require_image, tmp_path):
    require_image(POSTGRES_IMAGE)
    space = Stack(docker_client, tmp_path)
    yield space
    space.cleanup()


def _logs(stack: Stack) -> str:
    container = stack.get()
    return container.logs(tail=30).decode(errors="replace") if container else "(no container)"


def test_postgres_is_healthy_hardened_keeps_its_data_and_is_removed_only_with_purge(stack):
    run = stack.run()
    assert run.returncode == 0, run.output[-3000:]
    container = stack.get()
    attrs = container.attrs
    assert attrs["State"]["Health"]["Status"] == "healthy", _logs(stack)

    host = attrs["HostConfig"]
    assert host["CapDrop"] == ["ALL"]
    assert sorted(host["CapAdd"]) == ["CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_SETGID", "CAP_SETUID"] \
        or sorted(host["CapAdd"]) == ["CHOWN", "DAC_OVERRIDE", "FOWNER", "SETGID", "SETUID"]
    assert host["ReadonlyRootfs"] is True
    assert "no-new-privileges:true" in host["SecurityOpt"]
    assert host["Memory"] == 1024**3 and host["PidsLimit"] == 256
    assert host["LogConfig"] == {"Type": "json-file", "Config": {"max-size": "1m", "max-file": "1"}}
    assert host["RestartPolicy"]["Name"] == "unless-stopped"
    assert not host["PortBindings"], "published although postgres_publish_address is empty"
    assert attrs["Config"]["Healthcheck"]["Test"][:2] == ["CMD", "pg_isready"]
    assert not [e for e in attrs["Config"]["Env"] if e.startswith("POSTGRES_PASSWORD=")], "password in the environment"
    assert {m["Name"] for m in attrs["Mounts"] if m["Type"] == "volume"} == {stack.volume}

    # The password: generated once on the controller, 0600, and the only one that logs in.
    password_file = stack.credentials / "postgres.password"
    assert stat.S_IMODE(password_file.stat().st_mode) == 0o600
    password = password_file.read_text().strip()
    assert len(password) == 40
    code, out = stack.psql("SELECT 1", "wrong-" + password)
    assert code != 0 and "password authentication failed" in out, out
    code, out = stack.psql("SELECT 1", password)
    assert (code, out) == (0, "1"), out

    # The published facts: the endpoint carries no secret, the network URL logs in as it is.
    facts = json.loads(stack.result_file.read_text())
    assert facts["postgres_endpoint"] == {
        "host": f"{stack.prefix}-db", "port": 5432, "published_host": "", "published_port": 0,
        "database": "openwebui", "user": "openwebui", "container": stack.container, "network": stack.network}
    assert password not in json.dumps(facts["postgres_endpoint"])
    assert facts["postgres_database_urls"] == {
        "network": f"postgresql+psycopg://openwebui:{password}@{stack.prefix}-db:5432/openwebui", "published": ""}
    # psql takes the URL without SQLAlchemy's driver part.
    libpq_url = facts["postgres_database_urls"]["network"].replace("postgresql+psycopg://", "postgresql://")
    code, out = container.exec_run(["psql", "--no-psqlrc", "-tAc", "SELECT current_user", libpq_url])
    assert (code, out.decode().strip()) == (0, "openwebui"), out
    assert password not in run.output, "the password shows in the playbook output"

    assert stack.psql("CREATE TABLE kept (v text); INSERT INTO kept VALUES ('still here')", password)[0] == 0

    second = stack.run()
    assert second.returncode == 0, second.output[-3000:]
    assert second.changed == 0, second.output[-3000:]

    # Re-deploy published on loopback: a new container on the same volume, reachable from the host.
    port = free_port()
    published = stack.run(postgres_publish_address="127.0.0.1", postgres_publish_port=port)
    assert published.returncode == 0, published.output[-3000:]
    assert stack.get().id != container.id, "publishing did not recreate the container"
    assert stack.psql("SELECT v FROM kept", password) == (0, "still here")
    url = json.loads(stack.result_file.read_text())["postgres_database_urls"]["published"]
    assert url == f"postgresql+psycopg://openwebui:{password}@127.0.0.1:{port}/openwebui"
    url = url.replace("postgresql+psycopg://", "postgresql://")
    if shutil.which("psql"):
        out = subprocess.run(["psql", "--no-psqlrc", "-tAc", "SELECT v FROM kept", url],
                             capture_output=True, text=True, timeout=30, check=False)
        assert (out.returncode, out.stdout.strip()) == (0, "still here"), out.stderr

    # Removed without purge: the volume and the password file stay, and a new deploy finds the data.
    removed = stack.run(postgres_state="absent")
    assert removed.returncode == 0, removed.output[-3000:]
    assert stack.get() is None
    assert stack.volume_exists() and (stack.config_dir / "password").exists()
    again = stack.run()
    assert again.returncode == 0, again.output[-3000:]
    assert stack.psql("SELECT v FROM kept", password) == (0, "still here")

    # Purged: container, volume and configuration directory go; the network is not the role's.
    purged = stack.run(postgres_state="absent", postgres_purge=True)
    assert purged.returncode == 0, purged.output[-3000:]
    assert stack.existing() == [stack.network]


def test_a_volume_made_with_another_password_stops_the_role_naming_the_fix(stack):
    first = stack.run()
    assert first.returncode == 0, first.output[-3000:]  # positive control: the password it was made with works
    other = "another-password-0123456789"
    run = stack.run(postgres_password=other)
    assert run.returncode != 0, run.output[-3000:]
    assert "refuses user 'openwebui'" in run.output and "postgres_password" in run.output, run.output[-3000:]
    assert "postgres_purge" in run.output, run.output[-3000:]
    assert other not in run.output, "the password shows in the playbook output"


REFUSALS = [
    pytest.param({"postgres_publish_address": "0.0.0.0"}, "postgres_publish_address '0.0.0.0' publishes PostgreSQL on every",
                 id="publish-on-all-ipv4"),
    pytest.param({"postgres_publish_address": "::"}, "postgres_publish_address '::' publishes PostgreSQL on every",
                 id="publish-on-all-ipv6"),
    pytest.param({"postgres_password": "short"}, "postgres_password must have at least 16 characters", id="short-password"),
    pytest.param({"postgres_database": "open-webui"}, "postgres_database 'open-webui' and postgres_user",
                 id="database-name-with-dash"),
    pytest.param({"postgres_image": "Postgres:16 bad"}, "postgres_image 'Postgres:16 bad' is not an image reference",
                 id="invalid-image-reference"),
    pytest.param({"postgres_publish_port": 70000}, "postgres_publish_port (70000) must be between 1 and 65535",
                 id="port-out-of-range"),
]


@pytest.mark.parametrize(("bad", "message"), REFUSALS)
def test_a_refused_setting_stops_before_anything_exists(stack, bad, message):
    # The positive control is the first test: the same playbook with valid settings creates everything.
    run = stack.run(**bad)
    assert run.returncode != 0, run.output[-3000:]
    assert message in " ".join(run.output.split()), f"the error does not say {message!r}:\n{run.output[-3000:]}"
    assert run.changed == 0
    assert stack.existing() == []


def test_publishing_on_a_private_address_passes_the_preflight_and_its_url_logs_in(stack):
    # Positive control of the every-interface refusal: a specific address is accepted (127.0.0.2 is
    # loopback, so nothing leaves the machine). The password has every character that means something in
    # a URL, so the published URL logs in only if the role encodes it.
    port = free_port()
    password = "p@ss/w:rd%20?#[x]&y=z+ 'quoted'"
    run = stack.run(postgres_publish_address="127.0.0.2", postgres_publish_port=port, postgres_password=password)
    assert run.returncode == 0, run.output[-3000:]
    bindings = stack.get().attrs["HostConfig"]["PortBindings"]
    assert bindings == {"5432/tcp": [{"HostIp": "127.0.0.2", "HostPort": str(port)}]}
    urls = json.loads(stack.result_file.read_text())["postgres_database_urls"]
    assert urls["published"].startswith("postgresql+psycopg://openwebui:") and f"@127.0.0.2:{port}/openwebui" in urls["published"]
    assert stack.psql("SELECT 1", password) == (0, "1")
    if not shutil.which("psql"):
        pytest.skip("no psql on this host to try the published URL with")
    out = subprocess.run(["psql", "--no-psqlrc", "-tAc", "SELECT current_user",
                          urls["published"].replace("postgresql+psycopg://", "postgresql://")],
                         capture_output=True, text=True, timeout=30, check=False)
    assert (out.returncode, out.stdout.strip()) == (0, "openwebui"), out.stderr
