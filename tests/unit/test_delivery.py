"""The delivery check's choices and the other-Valkey comparison, fed with recorded inputs:
`docker inspect` / `docker network inspect` documents, getent output, what each client saw."""

from __future__ import annotations

import json

from ansible_collections.owui.realtime.plugins.module_utils.delivery import (
    CHANNEL,
    EVENT,
    Replica,
    decide,
    delivery_wanted,
    emit_message,
    replicas,
    workers_from_env,
)
from ansible_collections.owui.realtime.plugins.module_utils.valkey_target import (
    check_targets,
    network_owners,
    parse_getent,
    resolution,
    target_causes,
)

# `getent ahosts redis` in an Open WebUI 0.12.4 container on a user-defined network.
GETENT = "172.25.0.2      STREAM redis\n172.25.0.2      DGRAM  \n172.25.0.2      RAW    \n"
NETWORK = {"Name": "openwebui-network", "Containers": {
    "v1": {"Name": "redis-valkey", "IPv4Address": "172.25.0.2/16", "IPv6Address": ""},
    "v2": {"Name": "valkey-old", "IPv4Address": "172.25.0.4/16", "IPv6Address": ""},
    "a1": {"Name": "open-webui", "IPv4Address": "172.25.0.3/16", "IPv6Address": ""},
}}


def container(running=True, url=None, addresses=("172.25.0.3",), env=()):
    return {"running": running, "url": url, "addresses": list(addresses), "info": {"Config": {"Env": list(env)}}}


# --- which replicas, how they are reached, how many workers -------------------------------------

def test_workers_are_read_the_way_open_webui_reads_them():
    assert workers_from_env({}) == 1
    assert workers_from_env({"UVICORN_WORKERS": "4"}) == 4
    assert workers_from_env({"UVICORN_WORKERS": "0"}) == 1
    assert workers_from_env({"UVICORN_WORKERS": "four"}) == 1


def test_delivery_runs_by_default_only_with_more_than_one_replica():
    assert delivery_wanted(None, 1, 0) is False
    assert delivery_wanted(None, 2, 0) is True
    assert delivery_wanted(None, 1, 1) is True
    assert delivery_wanted(None, 0, 2) is True
    assert delivery_wanted(True, 1, 0) is True
    assert delivery_wanted(False, 3, 2) is False


def test_a_container_is_reached_at_its_published_port_else_at_its_address():
    found = replicas(["one", "two"], {"one": container(url="http://127.0.0.1:3001"),
                                      "two": container(addresses=["172.25.0.5"], env=["UVICORN_WORKERS=2"])},
                     ["http://10.0.0.12:3000/"], 3, 8080, "http://lb.example")
    assert [(r.name, r.url, r.via, r.workers) for r in found] == [
        ("one", "http://127.0.0.1:3001", "published port", 1),
        ("two", "http://172.25.0.5:8080", "container address", 2),
        ("http://10.0.0.12:3000", "http://10.0.0.12:3000", "given", 3),
    ]


def test_open_webui_url_stands_for_a_lone_container_only():
    lone = replicas(["one"], {"one": container(addresses=[])}, [], 1, 8080, "http://127.0.0.1:3000/")
    assert (lone[0].url, lone[0].via) == ("http://127.0.0.1:3000", "open_webui_url")
    two = replicas(["one", "two"], {"one": container(addresses=[]), "two": container()}, [], 1, 8080,
                   "http://127.0.0.1:3000")
    assert two[0].url is None and "not published" in two[0].problem


def test_missing_and_stopped_containers_have_no_url_and_say_why():
    found = replicas(["gone", "stopped"], {"stopped": container(running=False)}, [], 1, 8080, None)
    assert [r.problem for r in found] == ["the container does not exist", "the container is not running"]


def test_an_ipv6_only_container_gets_a_bracketed_url():
    found = replicas(["six"], {"six": container(addresses=["fd00::5"])}, [], 1, 8080, None)
    assert found[0].url == "http://[fd00::5]:8080"


# --- the message on the channel ---------------------------------------------------------------------

def test_the_emit_is_python_socketios_pubsub_shape_addressed_to_the_sid():
    message = json.loads(emit_message("ns-sid", "n0nce", "foreign"))
    assert message == {"method": "emit", "event": EVENT, "data": [{"nonce": "n0nce"}], "namespace": "/",
                       "room": "ns-sid", "skip_sid": None, "callback": None, "host_id": "foreign"}
    assert CHANNEL == "socketio"


# --- the verdict --------------------------------------------------------------------------------------

def two():
    return [Replica("a", "http://127.0.0.1:3001", 1, "published port"), Replica("http://h2:3000", "http://h2:3000", 2, "given")]


def test_every_replica_delivering_with_enough_subscribers_passes_and_reports_latency():
    outcomes = {"a": {"sid": "s1", "latency_ms": 3.1}, "http://h2:3000": {"sid": "s2", "latency_ms": 9.0}}
    entry = decide(two(), outcomes, 3, 5, True)
    assert entry["status"] == "ok"
    assert entry["detail"] == "2/2 replicas delivered within 5 s (3.1 ms, 9.0 ms); 3/3 workers subscribed to socketio"
    assert entry["evidence"]["replicas"]["a"]["latency_ms"] == 3.1
    assert entry["evidence"]["expected_workers"] == 3


def test_a_replica_that_never_delivers_is_named_and_may_be_waited_on():
    outcomes = {"a": {"sid": "s1", "latency_ms": 3.1}, "http://h2:3000": {"sid": "s2", "latency_ms": None}}
    entry = decide(two(), outcomes, 3, 5, True)
    assert entry["status"] == "failed"
    assert [c["id"] for c in entry["causes"]] == ["not_delivered"]
    assert entry["causes"][0]["message"].startswith("Replica 'http://h2:3000' did not deliver")
    assert "sid s2" in entry["causes"][0]["message"]
    assert entry["causes"][0]["transient"] is True


def test_fewer_subscribers_than_workers_fails_even_when_everything_arrived():
    outcomes = {"a": {"sid": "s1", "latency_ms": 1.0}, "http://h2:3000": {"sid": "s2", "latency_ms": 1.0}}
    entry = decide(two(), outcomes, 2, 5, True)
    assert [c["id"] for c in entry["causes"]] == ["workers_not_subscribed"]
    assert "a: 1, http://h2:3000: 2" in entry["causes"][0]["message"]


def test_an_unreachable_replica_is_named_and_a_container_without_url_is_not_waited_on():
    found = [Replica("a", None, 1, "", "the container is not running"), Replica("u", "http://u", 1, "given")]
    entry = decide(found, {"u": {"error": "Connection refused"}}, 0, 5, True)
    assert [(c["id"], c["transient"]) for c in entry["causes"]] == [
        ("delivery_unreachable", False), ("delivery_unreachable", True), ("workers_not_subscribed", True)]
    assert "container 'a'" in entry["causes"][0]["message"]
    assert "'u' at http://u: Connection refused" in entry["causes"][1]["message"]


# --- which Valkey Open WebUI's URL leads to ---------------------------------------------------------

def test_getent_output_gives_each_address_once():
    assert parse_getent(GETENT) == ["172.25.0.2"]
    assert resolution(0, GETENT, "") == {"addresses": ["172.25.0.2"]}
    assert resolution(2, "", "") == {"unresolved": "getent ahosts found no address"}
    assert "unknown" in resolution(127, "", 'exec: "getent": executable file not found')


def test_network_members_are_known_by_address():
    assert network_owners([NETWORK]) == {"172.25.0.2": "redis-valkey", "172.25.0.4": "valkey-old",
                                         "172.25.0.3": "open-webui"}


def test_a_host_that_leads_to_another_container_names_both():
    causes = target_causes("open-webui", "redis://:pw@redis:6379/1", "redis", {"addresses": ["172.25.0.4"]},
                           "redis-valkey", ["172.25.0.2"], network_owners([NETWORK]))
    assert [c["id"] for c in causes] == ["other_valkey"]
    assert "container 'valkey-old', not the Valkey container 'redis-valkey'" in causes[0]["message"]
    assert "redis://:********@redis:6379/1" in causes[0]["message"]
    assert causes[0]["transient"] is False


def test_the_checked_valkey_or_an_address_outside_dockers_networks_is_no_cause():
    owners = network_owners([NETWORK])
    assert target_causes("open-webui", "redis://redis/1", "redis", {"addresses": ["172.25.0.2"]},
                         "redis-valkey", ["172.25.0.2"], owners) == []
    # host.docker.internal and the like: may be the checked Valkey's published port.
    assert target_causes("open-webui", "redis://h/1", "h", {"addresses": ["172.17.0.1"]},
                         "redis-valkey", ["172.25.0.2"], owners) == []
    assert target_causes("open-webui", "redis://h/1", "h", {"unknown": "no getent"},
                         "redis-valkey", ["172.25.0.2"], owners) == []


def test_a_host_that_does_not_resolve_is_named_at_once():
    causes = target_causes("open-webui", "redis://valky:6379/1", "valky", {"unresolved": "getent ahosts found no address"},
                           "redis-valkey", ["172.25.0.2"], {})
    assert [(c["id"], c["transient"]) for c in causes] == [("redis_host_unresolved", False)]


def test_check_targets_asks_only_running_containers_with_a_url_and_reads_networks_only_when_needed():
    item = {"running": True, "parsed_url": {"host": "redis"}, "settings": {"redis_url": "redis://redis/1",
            "sentinel_hosts": ""}, "info": {"NetworkSettings": {"Networks": {"openwebui-network": {}}}}}
    stopped = dict(item, running=False)
    valkey = {"State": {"Running": True}, "NetworkSettings": {"Networks": {"openwebui-network": {"IPAddress": "172.25.0.2"}}}}
    asked, inspected = [], []

    def resolve(name, host):
        asked.append(name)
        return {"addresses": ["172.25.0.2"]} if name == "good" else {"addresses": ["172.25.0.4"]}

    def inspect_network(name):
        inspected.append(name)
        return NETWORK

    causes, seen = check_targets({"good": item, "moved": item, "stopped": stopped}, "redis-valkey", valkey,
                                 resolve, inspect_network)
    assert asked == ["good", "moved"] and inspected == ["openwebui-network"]
    assert [c["id"] for c in causes] == ["other_valkey"]
    assert seen["good"] == {"addresses": ["172.25.0.2"], "host": "redis"}
    assert check_targets({"good": item}, "redis-valkey", None, resolve, inspect_network) == ([], {})
