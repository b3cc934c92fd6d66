"""Run the collection's playbooks the way users do: ansible-playbook, by FQCN, on localhost."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

import docker

ROOT = Path(__file__).resolve().parents[2]
INVENTORY = ROOT / "tests" / "inventory" / "localhost.yml"
VALKEY_IMAGE = os.environ.get("OWUI_TEST_VALKEY_IMAGE", "localhost/owui-test/valkey:8.1")
OPEN_WEBUI_IMAGE = os.environ.get("OWUI_TEST_OPEN_WEBUI_IMAGE", "localhost/owui-test/open-webui:0.12.4")
_RECAP = re.compile(r"^(?P<host>\S+)\s+:\s+ok=(?P<ok>\d+)\s+changed=(?P<changed>\d+)\s+unreachable=(?P<unreachable>\d+)"
                    r"\s+failed=(?P<failed>\d+)", re.MULTILINE)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Run:
    returncode: int
    output: str

    @property
    def recap(self) -> dict[str, int]:
        found = list(_RECAP.finditer(self.output))
        assert found, f"no PLAY RECAP in the output:\n{self.output[-3000:]}"
        return {k: int(v) for k, v in found[-1].groupdict().items() if k != "host"}

    @property
    def changed(self) -> int:
        return self.recap["changed"]


def stack_vars(prefix: str, tmp_path: Path, port: int) -> dict:
    """Names that belong to one test only, so tests never touch each other's (or a user's) stack."""
    return {
        "network_name": f"{prefix}-net",
        "valkey_image": VALKEY_IMAGE,
        "valkey_pull": "never",
        "valkey_container_name": f"{prefix}-valkey",
        "valkey_volume_name": f"{prefix}-valkey-data",
        "valkey_credentials_dir": str(tmp_path / "credentials"),
        "open_webui_image": OPEN_WEBUI_IMAGE,
        "open_webui_pull": "never",
        "open_webui_container_name": f"{prefix}-open-webui",
        "open_webui_volume_name": f"{prefix}-open-webui-data",
        "open_webui_credentials_dir": str(tmp_path / "credentials"),
        "open_webui_port": port,
    }


def unique_prefix(kind: str) -> str:
    return f"owui-it-{kind}-{uuid.uuid4().hex[:6]}"


def run_playbook(name: str | Path, extra_vars: dict, *, check: bool = False, env: dict | None = None,
                 timeout: int = 900, verbosity: int = 0, inventory: Path = INVENTORY) -> Run:
    """Run one of the collection's playbooks by its short name, or a test playbook by its path."""
    playbook = str(name) if isinstance(name, Path) else f"owui.realtime.{name}"
    cmd = ["ansible-playbook", "-i", str(inventory), playbook, "-e", json.dumps(extra_vars)]
    if check:
        cmd.append("--check")
    if verbosity:
        cmd.append("-" + "v" * verbosity)
    full_env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1",
                    ANSIBLE_COLLECTIONS_PATH=str(ROOT / ".cache" / "collections"), **(env or {}))
    proc = subprocess.run(cmd, cwd=ROOT, env=full_env, capture_output=True, text=True, timeout=timeout, check=False)
    return Run(proc.returncode, proc.stdout + proc.stderr)


def run_module(name: str, args: dict, *, check: bool = False, timeout: int = 300) -> tuple[dict | None, str]:
    """Run one of the collection's modules ad hoc on localhost, as `ansible localhost -m owui.realtime.NAME`
    does; return its result (None when Ansible printed none) and everything Ansible printed."""
    cmd = [str(Path(sys.executable).with_name("ansible")), "localhost", "-i", str(INVENTORY),
           "-m", f"owui.realtime.{name}", "-a", json.dumps(args)]
    if check:
        cmd.append("--check")
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_COLLECTIONS_PATH=str(ROOT / ".cache" / "collections"),
               ANSIBLE_LOAD_CALLBACK_PLUGINS="1", ANSIBLE_STDOUT_CALLBACK="json")
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    try:
        result = json.loads(proc.stdout)["plays"][0]["tasks"][0]["hosts"]["localhost"]
    except (ValueError, LookupError, TypeError):
        result = None
    return result, proc.stdout + proc.stderr


def leftovers(engine: docker.DockerClient, prefix: str) -> list[str]:
    """Every Docker object or config directory whose name starts with the test's prefix."""
    found = [c.name for c in engine.containers.list(all=True) if c.name.startswith(prefix)]
    found += [n.name for n in engine.networks.list() if n.name.startswith(prefix)]
    found += [v.name for v in engine.volumes.list() if v.name.startswith(prefix)]
    found += [str(p) for p in Path("/etc/owui-realtime").glob(f"{prefix}*")]
    return found


def remove_everything(engine: docker.DockerClient, prefix: str) -> None:
    for c in engine.containers.list(all=True):
        if c.name.startswith(prefix):
            c.remove(force=True)
    for n in engine.networks.list():
        if n.name.startswith(prefix):
            n.remove()
    for v in engine.volumes.list():
        if v.name.startswith(prefix):
            v.remove(force=True)
    for p in Path("/etc/owui-realtime").glob(f"{prefix}*"):
        shutil.rmtree(p)
