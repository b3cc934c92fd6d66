"""The collection as AWX runs it: ansible-runner starts each job in the execution environment (EE)
built by ``hack/ee.sh build`` (ansible-builder, the collection's declared dependencies only), with a
fresh private data directory per job: the project under ``awx/project``, an inventory, the survey's
answers and the credential's secrets in ``env/extravars``, the machine credential's key in
``env/ssh_key``, no TTY, -vvv. The target is a Debian 12 Docker host reached over SSH (test host
ee-target); a last job verifies from the EE's own Python against that host's engine over TCP, where
the libraries in requirements.txt must be in the EE.

Slow (the EE build, three jobs, Open WebUI's start): ``make awx-test``, not ``make test``."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import ansible_runner
import pytest
import yaml

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
TESTHOST = ROOT / "hack" / "testhost.sh"
STATE = Path("/var/lib/owui-realtime/testhosts")
HOST = "ee-target"
INDEX = 9          # address 10.231.0.19
REGISTRY = "10.231.0.1:5000"
VALKEY_IMAGE = os.environ.get("OWUI_TEST_VALKEY_IMAGE", "localhost/owui-test/valkey:8.1")
OPEN_WEBUI_IMAGE = os.environ.get("OWUI_TEST_OPEN_WEBUI_IMAGE", "localhost/owui-test/open-webui:0.12.4")
VERDICT = "Open WebUI uses Valkey for websockets"
VERIFY_TASK = "Prove that Open WebUI's websocket manager is Valkey"
# What the "Open WebUI on Valkey" credential injects (awx/controller.yml); characters that URLs must
# percent-encode, so the Valkey URL in Open WebUI's environment holds them in another form.
SECRETS = {
    "valkey_admin_password": "ee-admin/p@ss:w0rd+%x#1",
    "valkey_open_webui_password": "ee-owui?p@ss&w0rd=%y!2",
    "postgres_password": "ee-pg-password-never-used-9",
    "open_webui_secret_key": "ee-secret-key/with:odd@chars+and%more-0123456789",
}


def on_testhosts(*args: str) -> str:
    proc = subprocess.run([str(TESTHOST), *args], capture_output=True, text=True, timeout=900, check=False)
    assert proc.returncode == 0, f"hack/testhost.sh {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


@pytest.fixture(scope="module")
def ee_image() -> str:
    """The EE, built unless the engine has it for the same inputs."""
    proc = subprocess.run([str(ROOT / "hack" / "ee.sh"), "build"], capture_output=True, text=True, timeout=3600,
                          check=False, env={**os.environ, "OWUI_EE_PYTHON": sys.executable})
    assert proc.returncode == 0, f"hack/ee.sh build failed:\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout.split()[-1]


@pytest.fixture(scope="module")
def target() -> dict:
    """Test host ee-target, with the test images in the registry it pulls from."""
    on_testhosts("registry")
    images = on_testhosts("publish", VALKEY_IMAGE, OPEN_WEBUI_IMAGE).split()
    on_testhosts("up", HOST, str(INDEX))
    try:
        yield {"address": (STATE / HOST / "address").read_text().strip(),
               "key": (STATE / "id_ed25519").read_text(),
               "valkey_image": next((i for i in images if "/valkey:" in i), None),
               "open_webui_image": next((i for i in images if "/open-webui:" in i), None)}
    finally:
        on_testhosts("down", HOST)


class Job:
    """One AWX job: a private data directory of its own, run by ansible-runner in the EE."""

    def __init__(self, base: Path, name: str, image: str, playbook: str, inventory: dict, extravars: dict,
                 *, ssh_key: str | None = None, container_env: dict | None = None) -> None:
        self.dir = base / name
        shutil.copytree(ROOT / "awx" / "project", self.dir / "project")
        (self.dir / "inventory").mkdir()
        (self.dir / "inventory" / "hosts.yml").write_text(yaml.safe_dump(inventory))
        (self.dir / "env").mkdir()
        (self.dir / "env" / "extravars").write_text(yaml.safe_dump(extravars))
        if ssh_key:
            (self.dir / "env" / "ssh_key").write_text(ssh_key)
        self.runner = ansible_runner.run(
            private_data_dir=str(self.dir), playbook=playbook, ident=name, verbosity=3, quiet=True,
            process_isolation=True, process_isolation_executable="docker", container_image=image,
            # ansible-runner gives the container a terminal (--tty); AWX's job containers have none.
            # Environment for the job, as a credential type's env injector gives it. Not env/envvars: ansible-runner
            # also hands those to the docker CLI that starts the container (DOCKER_HOST would redirect it).
            container_options=["--tty=false", *(f"--env={k}={v}" for k, v in (container_env or {}).items())],
            timeout=1800)
        self.stdout = (self.dir / "artifacts" / name / "stdout").read_text()

    @property
    def changed(self) -> int:
        return sum((self.runner.stats or {}).get("changed", {}).values())

    def describe(self) -> str:
        return f"status {self.runner.status}, rc {self.runner.rc}, stats {self.runner.stats}\n{self.stdout[-5000:]}"

    def verdicts(self) -> list[str]:
        """The websocket check's messages, from the job events AWX stores."""
        return [e["event_data"]["res"].get("msg", "") for e in self.runner.events
                if e.get("event") == "runner_on_ok" and e["event_data"].get("task") == VERIFY_TASK]


def leaked(directory: Path, needles: dict[str, str]) -> list[str]:
    """Every (file, secret name) where a secret appears in a file under ``directory``."""
    found = []
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        text = path.read_bytes().decode(errors="replace")
        found += [f"{path.relative_to(directory)}: {name}" for name, value in needles.items() if value in text]
    return found


def needles(key: str) -> dict[str, str]:
    found = {}
    for name, value in SECRETS.items():
        found[name] = value
        found[f"{name} (percent-encoded)"] = quote(value, safe="")
        found[f"{name} (JSON-escaped)"] = json.dumps(value)[1:-1]
    body = [line for line in key.splitlines() if line and not line.startswith("-----")]
    found |= {f"private key line {i}": line for i, line in enumerate(body)}
    return found


def test_deploy_and_verify_as_awx_runs_them(ee_image, target, tmp_path):
    survey = {
        "open_webui_image": target["open_webui_image"], "valkey_image": target["valkey_image"],
        "open_webui_pull": "missing", "valkey_pull": "missing", "open_webui_port": 3000,
        # Published on the host's address: the last job reaches it from the EE.
        "open_webui_bind_address": target["address"], "open_webui_wait_timeout": 300,
        "valkey_tls_enabled": False,  # the job template's own extra variable
    }
    extravars = {**survey, **SECRETS}
    ssh = {"all": {"hosts": {HOST: {
        "ansible_host": target["address"], "ansible_user": "root", "ansible_python_interpreter": "/usr/bin/python3",
        "ansible_ssh_common_args": "-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null"}}}}

    first = Job(tmp_path, "ee-deploy-1", ee_image, "deploy.yml", ssh, extravars, ssh_key=target["key"])
    assert first.runner.status == "successful", first.describe()
    assert first.changed > 0, first.describe()
    again = Job(tmp_path, "ee-deploy-2", ee_image, "deploy.yml", ssh, extravars, ssh_key=target["key"])
    assert again.runner.status == "successful", again.describe()
    assert again.changed == 0, again.describe()
    assert any(VERDICT in v for v in again.verdicts()), again.describe()
    assert "ESTABLISH SSH CONNECTION FOR USER: root" in again.stdout, "the job did not run at -vvv over SSH"

    # The verify job from the EE's own Python, to the host's engine over TCP: websocket_check runs in
    # the EE and needs the libraries requirements.txt declares.
    local = {"all": {"hosts": {HOST: {"ansible_connection": "local", "ansible_python_interpreter": "/usr/bin/python3"}}}}
    verified = Job(tmp_path, "ee-verify", ee_image, "verify.yml", local, extravars,
                   container_env={"DOCKER_HOST": f"tcp://{target['address']}:2375"})
    assert verified.runner.status == "successful", verified.describe()
    assert verified.changed == 0, verified.describe()
    assert any(VERDICT in v for v in verified.verdicts()), verified.describe()

    secrets = needles(target["key"])
    # The positive control: the search finds the secrets where they are meant to be.
    assert {"valkey_admin_password", "open_webui_secret_key"} <= {
        s.split(": ", 1)[1] for s in leaked(first.dir / "env", secrets)}
    for job in (first, again, verified):
        assert leaked(job.dir / "artifacts", secrets) == [], f"secrets in {job.dir / 'artifacts'}"
