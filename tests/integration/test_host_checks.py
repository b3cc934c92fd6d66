"""Host checks that warn without failing: the kernel's memory overcommit mode on Valkey's host (and setting it
when allowed), and an Open WebUI image whose python-socketio predates 5.15."""

from __future__ import annotations

import io
import uuid
from pathlib import Path

import docker
import pytest
from playbook import OPEN_WEBUI_IMAGE, ROOT, run_playbook

pytestmark = pytest.mark.integration

PLAYBOOK = ROOT / "tests" / "integration" / "playbooks" / "role_tasks.yml"
OVERCOMMIT = Path("/proc/sys/vm/overcommit_memory")
SYSCTL_FILE = Path("/etc/sysctl.d/60-owui-realtime-valkey.conf")
OLD_SOCKETIO_IMAGE = "pf-open-webui-old-socketio:test"
# The test image with python-socketio's metadata saying 5.14.3: what the check reads, without a download.
OLD_SOCKETIO_DOCKERFILE = f"""FROM {OPEN_WEBUI_IMAGE}
RUN sed -i 's/^Version: .*/Version: 5.14.3/' \\
    "$(python3 -c 'import importlib.metadata as m; print(m.distribution("python-socketio")._path)')/METADATA"
"""
OVERCOMMIT_WARNING = "Warning: vm.overcommit_memory is"
SOCKETIO_WARNING = "older than 5.15"


@pytest.fixture
def overcommit():
    """The kernel's overcommit mode and the role's sysctl file, put back as they were afterwards. The mode is
    the whole machine's: the test changes it for a few seconds only."""
    if SYSCTL_FILE.exists():
        pytest.skip(f"{SYSCTL_FILE} exists already; the test would overwrite and remove it")
    original = OVERCOMMIT.read_text().strip()
    yield
    OVERCOMMIT.write_text(original)
    SYSCTL_FILE.unlink(missing_ok=True)


def test_valkey_s_host_warns_on_overcommit_0_and_sets_1_only_when_allowed(overcommit):
    OVERCOMMIT.write_text("0")
    warned = run_playbook(PLAYBOOK, {"test_role": "valkey", "test_tasks": "preflight_kernel"})
    assert warned.returncode == 0, warned.output[-3000:]
    assert OVERCOMMIT_WARNING + " 0 on localhost, not 1" in warned.output, warned.output[-3000:]
    assert "valkey_set_overcommit_memory" in warned.output and "MISCONF" in warned.output
    assert OVERCOMMIT.read_text().strip() == "0" and not SYSCTL_FILE.exists(), "the check changed the host"

    allowed = {"test_role": "valkey", "test_tasks": "kernel", "valkey_set_overcommit_memory": True}
    checked = run_playbook(PLAYBOOK, allowed, check=True)
    assert checked.returncode == 0 and checked.changed > 0, checked.output[-3000:]
    assert OVERCOMMIT.read_text().strip() == "0" and not SYSCTL_FILE.exists(), "check mode changed the host"

    tuned = run_playbook(PLAYBOOK, allowed)
    assert tuned.returncode == 0 and tuned.changed == 2, tuned.output[-3000:]
    assert OVERCOMMIT.read_text().strip() == "1"
    assert "vm.overcommit_memory = 1" in SYSCTL_FILE.read_text()
    again = run_playbook(PLAYBOOK, allowed)
    assert again.returncode == 0 and again.changed == 0, again.output[-3000:]

    # Positive control: at 1 the same check is silent.
    quiet = run_playbook(PLAYBOOK, {"test_role": "valkey", "test_tasks": "preflight_kernel"})
    assert quiet.returncode == 0, quiet.output[-3000:]
    assert OVERCOMMIT_WARNING not in quiet.output


@pytest.fixture
def sleeping(engine, require_image):
    """`sleeping(image)`: a container of that image that only sleeps, so its Python can be asked at once."""
    made = []

    def start(image: str) -> str:
        name = f"pf-socketio-{uuid.uuid4().hex[:6]}"
        made.append(engine.containers.run(require_image(image), name=name, entrypoint=["sleep", "infinity"],
                                          detach=True))
        return name

    yield start
    for container in made:
        container.remove(force=True)


@pytest.fixture(scope="module")
def old_socketio_image(require_image):
    client = docker.from_env(timeout=600)
    require_image(OPEN_WEBUI_IMAGE)
    client.images.build(fileobj=io.BytesIO(OLD_SOCKETIO_DOCKERFILE.encode()), tag=OLD_SOCKETIO_IMAGE, rm=True,
                        forcerm=True)
    yield OLD_SOCKETIO_IMAGE
    client.images.remove(OLD_SOCKETIO_IMAGE, noprune=False)
    client.close()


def _socketio_check(container: str, image: str):
    return run_playbook(PLAYBOOK, {"test_role": "open_webui", "test_tasks": "socketio",
                                   "open_webui_container_name": container, "open_webui_image": image})


def test_an_image_with_python_socketio_before_5_15_is_flagged(sleeping, old_socketio_image):
    run = _socketio_check(sleeping(old_socketio_image), old_socketio_image)
    assert run.returncode == 0 and run.changed == 0, run.output[-3000:]
    assert f"image {old_socketio_image}" in run.output and "python-socketio 5.14.3, older than 5.15" in run.output, \
        run.output[-3000:]


def test_the_open_webui_test_image_carries_a_python_socketio_that_retries(sleeping):
    # Positive control: the real 0.12.4 image (python-socketio 5.16.2) is not flagged.
    run = _socketio_check(sleeping(OPEN_WEBUI_IMAGE), OPEN_WEBUI_IMAGE)
    assert run.returncode == 0 and run.changed == 0, run.output[-3000:]
    assert "Read which python-socketio the Open WebUI container runs" in run.output
    assert SOCKETIO_WARNING not in run.output and "Could not read" not in run.output, run.output[-3000:]
