"""websocket_check's delivery check against real Valkey and Open WebUI containers.

One module-scoped stack on one network serves every case (each Open WebUI needs 30-60 s to
become healthy on 2 cores):
  valkey        Valkey with a password, network alias `redis`
  valkey_other  a second Valkey with the same password, alias `redis-other`, used by no one
  a             WEBSOCKET_MANAGER=redis, WEBSOCKET_REDIS_URL=redis://:pw@redis:6379/1, port published
  b             the same, port not published: the check reaches it at its container address
  c             the same as a, but WEBSOCKET_MANAGER unset
The cases only connect Socket.IO clients and publish on Valkey; none stops, restarts or changes
a container, so each leaves the stack as it found it and the cases pass in any order.
Helpers (images, password, ad hoc module run, waiting for health) are test_websocket_check's.
"""

from __future__ import annotations

import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from conftest import Scratch
from test_websocket_check import (
    OPEN_WEBUI_IMAGE,
    PASSWORD,
    VALKEY_IMAGE,
    cause_ids,
    free_port,
    run_check,
    show,
    wait_healthy,
)

pytestmark = pytest.mark.integration

WAIT = 60


@pytest.fixture(scope="module")
def stack(docker_client, require_image):
    require_image(VALKEY_IMAGE)
    require_image(OPEN_WEBUI_IMAGE)
    scratch = Scratch(docker_client, f"owui-it-dlv-{uuid.uuid4().hex[:6]}")
    names: dict[str, str] = {}
    try:
        network = scratch.network("net").name
        for which, alias in (("valkey", "redis"), ("valkey_other", "redis-other")):
            names[which] = scratch.container(which.replace("_", "-"), VALKEY_IMAGE, network=network, aliases=[alias],
                                             command=["valkey-server", "--requirepass", PASSWORD]).name
        redis_env = {"WEBUI_SECRET_KEY": "owui-it-dlv-secret", "ENABLE_WEBSOCKET_SUPPORT": "true",
                     "WEBSOCKET_MANAGER": "redis", "WEBSOCKET_REDIS_URL": f"redis://:{PASSWORD}@redis:6379/1"}
        unset_env = {k: v for k, v in redis_env.items() if k != "WEBSOCKET_MANAGER"}
        specs = {"a": (redis_env, True), "b": (redis_env, False), "c": (unset_env, True)}
        containers = {}
        for which, (env, publish) in specs.items():
            kwargs = {"network": network, "environment": env}
            if publish:
                names[f"{which}_port"] = str(free_port())
                kwargs["ports"] = {"8080/tcp": ("127.0.0.1", names[f"{which}_port"])}
            containers[which] = scratch.container(which, OPEN_WEBUI_IMAGE, **kwargs)
            names[which] = containers[which].name
        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=len(containers)) as pool:
            list(pool.map(wait_healthy, containers.values()))
        print(f"\n3 Open WebUI containers healthy after {time.monotonic() - started:.0f} s")
        for which, container in containers.items():
            container.reload()
            names[f"{which}_address"] = container.attrs["NetworkSettings"]["Networks"][network]["IPAddress"]
        yield names
    finally:
        scratch.cleanup()


def check(stack: dict, containers: list[str], **extra) -> dict:
    args = {"valkey_container": stack["valkey"], "valkey_password": PASSWORD,
            "open_webui_containers": [stack[which] for which in containers], "wait_timeout": WAIT}
    args.update(extra)
    started = time.monotonic()
    result, _output = run_check(**args)
    result["took"] = round(time.monotonic() - started, 1)
    return result


def delivery(result: dict) -> dict:
    return result["checks"]["delivery"]


def test_two_replicas_on_one_valkey_deliver(stack):
    result = check(stack, ["a", "b"])
    assert not result.get("failed"), show(result)
    entry = delivery(result)
    assert entry["status"] == "ok" and entry["required"] is True, show(result)
    assert entry["detail"].startswith("2/2 replicas delivered"), entry["detail"]
    replicas = entry["evidence"]["replicas"]
    assert replicas[stack["a"]]["via"] == "published port"
    assert replicas[stack["b"]]["via"] == "container address"
    for name in (stack["a"], stack["b"]):
        assert replicas[name]["latency_ms"] is not None, show(result)
        assert replicas[name]["latency_ms"] < entry["evidence"]["bound"] * 1000
    assert entry["evidence"]["subscribers"] >= entry["evidence"]["expected_workers"] == 2
    assert "2/2 replicas delivered" in result["msg"]
    print(f"\ndelivered: {stack['a']} {replicas[stack['a']]['latency_ms']} ms, {stack['b']} "
          f"{replicas[stack['b']]['latency_ms']} ms; module {result['elapsed']} s, run {result['took']} s")


def test_one_replica_skips_delivery_unless_forced(stack):
    url = f"http://127.0.0.1:{stack['a_port']}"
    result = check(stack, ["a"], open_webui_url=url)
    assert not result.get("failed"), show(result)
    assert delivery(result)["status"] == "skipped" and delivery(result)["required"] is False
    # Its URL's host resolved, inside the container, to the Valkey checked: no other_valkey.
    resolved = result["checks"]["open_webui"]["evidence"]["containers"][stack["a"]]["valkey_host"]
    assert resolved["host"] == "redis" and resolved["addresses"], show(result)
    forced = check(stack, ["a"], open_webui_url=url, delivery=True)
    assert not forced.get("failed"), show(forced)
    assert delivery(forced)["detail"].startswith("1/1 replicas delivered"), show(forced)


def test_a_replica_given_by_url_delivers(stack):
    url = f"http://{stack['b_address']}:8080"
    result = check(stack, ["a"], open_webui_urls=[url])
    assert not result.get("failed"), show(result)
    replicas = delivery(result)["evidence"]["replicas"]
    assert replicas[url]["via"] == "given" and replicas[url]["latency_ms"] is not None, show(result)


def test_a_replica_without_the_redis_manager_fails_and_is_named(stack):
    result = check(stack, ["a", "c"])
    assert result.get("failed"), show(result)
    entry = delivery(result)
    assert entry["status"] == "failed", show(result)
    assert entry["causes"][0]["id"] == "not_delivered", show(result)
    assert f"container '{stack['c']}'" in entry["causes"][0]["message"]
    assert stack["a"] not in " ".join(c["message"] for c in entry["causes"] if c["id"] == "not_delivered")
    replicas = entry["evidence"]["replicas"]
    assert replicas[stack["a"]]["latency_ms"] is not None, "the positive twin in the same run delivered"
    assert replicas[stack["c"]]["latency_ms"] is None
    assert "not_delivered" in cause_ids(result) and "manager_not_redis" in cause_ids(result)
    assert result["attempts"] == 1, "the environment already says waiting cannot help"
    print(f"\nmanager unset, failed in {result['elapsed']} s: {result['msg']}")


def test_the_delivery_alone_catches_a_replica_given_by_url(stack):
    # No environment to read for a URL: only the delivery check can tell, after waiting it out.
    url = f"http://127.0.0.1:{stack['c_port']}"
    result = check(stack, ["a"], open_webui_urls=[url], wait_timeout=12)
    assert result.get("failed"), show(result)
    assert cause_ids(result)[0] == "not_delivered", show(result)
    assert f"'{url}'" in result["causes"][0]["message"]
    assert delivery(result)["evidence"]["replicas"][stack["a"]]["latency_ms"] is not None
    print(f"\nURL without the manager, failed after {result['attempts']} rounds in {result['elapsed']} s: "
          f"{result['causes'][0]['message']}")


def test_open_webui_on_another_valkey_is_named_at_once(stack):
    # The check is pointed at valkey_other while a and b use `redis`: the same fact as Open WebUI
    # pointed at another Valkey than the one checked, seen from the check's side.
    result = check(stack, ["a", "b"], valkey_container=stack["valkey_other"])
    assert result.get("failed"), show(result)
    assert cause_ids(result)[0] == "other_valkey", show(result)
    named = [c["message"] for c in result["causes"] if c["id"] == "other_valkey"]
    assert len(named) == 2, show(result)
    assert f"container '{stack['valkey']}'" in named[0] and f"'{stack['valkey_other']}'" in named[0]
    assert result["attempts"] == 1
    assert result["elapsed"] < WAIT / 4, f"took {result['elapsed']} s of wait_timeout {WAIT}"
    print(f"\nother Valkey, failed in {result['elapsed']} s of wait_timeout {WAIT}: {named[0]}")
