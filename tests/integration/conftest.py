"""Shared fixtures for the integration tests: a Docker client, and a scratch space of Docker
objects that belong to one test only (named ``owui-it-…``) and are removed after it."""

from __future__ import annotations

import re
import uuid

import docker
import pytest
from docker.models.containers import Container
from docker.models.networks import Network
from docker.models.volumes import Volume
from playbook import free_port, remove_everything, stack_vars, unique_prefix

ENGINE_HINT = "start one with `make engine` (hack/engine.sh start)"
IMAGES_HINT = "build them with `make images` (hack/images.sh build)"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """A failing test that used ``scratch`` shows its containers' last log lines."""
    report = yield
    space = item.funcargs.get("scratch") if hasattr(item, "funcargs") else None
    if report.when == "call" and report.failed and isinstance(space, Scratch):
        report.sections.append(("docker logs", space.logs()))
    return report


@pytest.fixture(scope="session")
def docker_client() -> docker.DockerClient:
    try:
        client = docker.from_env(timeout=120)
        client.ping()
    except docker.errors.DockerException as exc:
        pytest.fail(f"no Docker engine answers ({exc}); {ENGINE_HINT}", pytrace=False)
    yield client
    client.close()


@pytest.fixture(scope="session")
def require_image(docker_client):
    """``require_image(ref)`` returns ``ref``, or fails the test with the fix when the engine lacks it."""

    def require(ref: str) -> str:
        if not docker_client.images.list(name=ref):
            pytest.fail(f"the engine has no image {ref}; {IMAGES_HINT}", pytrace=False)
        return ref

    return require


class Scratch:
    """Docker objects made for one test. Every name starts with the test's prefix
    (``owui-it-<test>-<random>``); cleanup removes exactly these and nothing else."""

    def __init__(self, client: docker.DockerClient, prefix: str) -> None:
        self.client = client
        self.prefix = prefix
        self.containers: list[Container] = []
        self.networks: list[Network] = []
        self.volumes: list[Volume] = []

    def name(self, suffix: str) -> str:
        return f"{self.prefix}-{suffix}"

    def network(self, suffix: str, **kwargs) -> Network:
        network = self.client.networks.create(self.name(suffix), **kwargs)
        self.networks.append(network)
        return network

    def volume(self, suffix: str, **kwargs) -> Volume:
        volume = self.client.volumes.create(self.name(suffix), **kwargs)
        self.volumes.append(volume)
        return volume

    def container(self, suffix: str, image: str, *, aliases: list[str] | None = None, **kwargs) -> Container:
        """Start a detached container; ``aliases`` are its DNS names on ``network=``."""
        if aliases:
            kwargs["networking_config"] = {
                kwargs["network"]: self.client.api.create_endpoint_config(aliases=aliases)
            }
        container = self.client.containers.run(image, name=self.name(suffix), detach=True, **kwargs)
        self.containers.append(container)
        return container

    def logs(self, tail: int = 40) -> str:
        """The last lines of every container made here: a failing test's evidence."""
        parts = []
        for container in self.containers:
            try:
                container.reload()
                state = container.attrs["State"]
                text = container.logs(tail=tail).decode(errors="replace")
            except docker.errors.NotFound:
                continue
            parts.append(f"----- {container.name} ({state['Status']}, exit {state['ExitCode']}), "
                         f"last {tail} lines -----\n{text}")
        return "\n".join(parts)

    def cleanup(self) -> None:
        for container in reversed(self.containers):
            try:
                container.remove(force=True, v=True)  # v: the image's anonymous volumes too
            except docker.errors.NotFound:
                pass
        for network in reversed(self.networks):
            try:
                network.remove()
            except docker.errors.NotFound:
                pass
        for volume in reversed(self.volumes):
            try:
                volume.remove(force=True)
            except docker.errors.NotFound:
                pass


@pytest.fixture
def scratch(docker_client, request):
    """A :class:`Scratch` for this test; on failure its containers' logs join the report."""
    slug = re.sub(r"[^a-z0-9]+", "-", request.node.name.lower()).strip("-")[:24].strip("-")
    space = Scratch(docker_client, f"owui-it-{slug}-{uuid.uuid4().hex[:6]}")
    yield space
    space.cleanup()


@pytest.fixture
def engine(docker_client):
    """This machine's Docker engine, for the playbook tests."""
    return docker_client


@pytest.fixture
def stack(engine, tmp_path, request):
    """(prefix, variables) of a stack whose names are its own (the kind in them is the test module's
    STACK_KIND), removed with everything named after it afterwards."""
    prefix = unique_prefix(getattr(request.module, "STACK_KIND", "pb"))
    yield prefix, stack_vars(prefix, tmp_path, free_port())
    remove_everything(engine, prefix)
