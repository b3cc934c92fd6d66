"""Scale-out on three test hosts: what each replica runs, read back from its engine, and what users see
across replicas — a login made through the load balancer holds on every replica, and a channel message
posted on one replica reaches a websocket client of the other."""

from __future__ import annotations

import os
import queue
import subprocess
import uuid
from urllib.parse import urlsplit

import docker
import pytest
import requests
import socketio

testinfra_hosts = ["mh-1"]

VALKEY_HOST, REPLICAS = "mh-1", ("mh-2", "mh-3")
ADDRESS = {"mh-1": "10.231.0.12", "mh-2": "10.231.0.13", "mh-3": "10.231.0.14"}


@pytest.fixture(scope="module")
def engines():
    clients = {name: docker.DockerClient(base_url=f"tcp://{address}:2375") for name, address in ADDRESS.items()}
    yield clients
    for client in clients.values():
        client.close()


@pytest.fixture(scope="module")
def replica_env(engines, hostvars):
    """Each replica container's environment, as its host's engine reports it."""
    name = hostvars.get("open_webui_container_name", "open-webui")
    return {r: dict(item.split("=", 1) for item in engines[r].containers.get(name).attrs["Config"]["Env"])
            for r in REPLICAS}


def replica_url(replica: str) -> str:
    return f"http://{ADDRESS[replica]}:3000"


LOAD_BALANCER = f"http://{ADDRESS[VALKEY_HOST]}:8080"


def test_every_replica_shares_one_valkey_one_database_and_one_key(replica_env):
    for replica, env in replica_env.items():
        assert env["WEBSOCKET_MANAGER"] == "redis", replica
        assert urlsplit(env["WEBSOCKET_REDIS_URL"]).hostname == ADDRESS[VALKEY_HOST], replica
        assert urlsplit(env["REDIS_URL"]).hostname == ADDRESS[VALKEY_HOST], replica
        database = urlsplit(env["DATABASE_URL"])
        assert database.scheme.startswith("postgresql"), env["DATABASE_URL"].split("@")[-1]
        assert (database.hostname, database.port) == (ADDRESS[VALKEY_HOST], 5432)
    assert len({env["WEBUI_SECRET_KEY"] for env in replica_env.values()}) == 1
    assert len({env["DATABASE_URL"] for env in replica_env.values()}) == 1


def test_only_the_first_replica_runs_the_migrations(replica_env):
    assert replica_env["mh-2"]["ENABLE_DB_MIGRATIONS"] == "true"
    assert replica_env["mh-3"]["ENABLE_DB_MIGRATIONS"] == "false"


@pytest.fixture(scope="module")
def admin():
    """The first user, signed up through the load balancer (Open WebUI makes the first user admin)."""
    email = f"admin-{uuid.uuid4().hex[:8]}@example.org"
    password = uuid.uuid4().hex
    reply = requests.post(f"{LOAD_BALANCER}/api/v1/auths/signup", timeout=30,
                          json={"name": "Admin", "email": email, "password": password})
    if reply.status_code != 200:  # a re-run of verify on a kept stack: the admin exists already
        pytest.fail(f"sign-up through the load balancer answered {reply.status_code}: {reply.text[:300]}")
    return {"email": email, "password": password, **reply.json()}


def test_a_login_made_through_the_load_balancer_holds_on_every_replica(admin):
    for replica in REPLICAS:
        me = requests.get(f"{replica_url(replica)}/api/v1/auths/", timeout=30,
                          headers={"Authorization": f"Bearer {admin['token']}"})
        assert me.status_code == 200, f"{replica}: {me.status_code} {me.text[:300]}"
        assert me.json()["id"] == admin["id"]
        signin = requests.post(f"{replica_url(replica)}/api/v1/auths/signin", timeout=30,
                               json={"email": admin["email"], "password": admin["password"]})
        assert signin.status_code == 200, f"{replica}: {signin.status_code} {signin.text[:300]}"


def test_a_channel_message_posted_on_one_replica_reaches_a_client_on_the_other(admin):
    headers = {"Authorization": f"Bearer {admin['token']}"}
    channel = requests.post(f"{replica_url('mh-3')}/api/v1/channels/create", headers=headers, timeout=30,
                            json={"name": f"check-{uuid.uuid4().hex[:6]}", "type": "group"})
    assert channel.status_code == 200, channel.text[:300]
    channel_id = channel.json()["id"]

    received: queue.Queue = queue.Queue()
    client = socketio.Client(reconnection=False)
    client.on("events:channel", received.put)
    client.connect(replica_url("mh-2"), socketio_path="/ws/socket.io", transports=["websocket"],
                   auth={"token": admin["token"]}, wait_timeout=20)
    try:
        joined = client.call("user-join", {"auth": {"token": admin["token"]}}, timeout=20)
        assert joined and joined["id"] == admin["id"], joined
        text = f"across replicas {uuid.uuid4().hex}"
        posted = requests.post(f"{replica_url('mh-3')}/api/v1/channels/{channel_id}/messages/post",
                               headers=headers, json={"content": text}, timeout=30)
        assert posted.status_code == 200, posted.text[:300]
        seen = []
        while True:
            try:
                event = received.get(timeout=15)
            except queue.Empty:
                pytest.fail(f"the client on mh-2 never received the message posted on mh-3; it saw {seen}")
            seen.append(event.get("data", {}).get("type"))
            data = event.get("data", {})
            if data.get("type") == "message" and data.get("data", {}).get("content") == text:
                break
    finally:
        client.disconnect()


def test_verify_on_its_own_proves_delivery_to_every_replica(verify_playbook):
    code, output = verify_playbook()
    assert code == 0, output[-3000:]
    flat = " ".join(output.split())
    assert "Open WebUI uses Valkey for websockets" in flat
    assert "2/2 replicas delivered" in flat, flat[-2000:]


def test_a_replica_without_the_redis_manager_fails_verify_naming_it(tmp_path, verify_playbook):
    """mh-3 redeployed with WEBSOCKET_MANAGER emptied: the deploy's verify fails and names mh-3's URL;
    the same deploy without the override mends it and verify passes again (the positive control)."""
    override = tmp_path / "override.yml"
    override.write_text(
        "all:\n  hosts:\n    mh-3:\n      open_webui_env: {ENABLE_CHANNELS: 'true', WEBSOCKET_MANAGER: ''}\n")
    inventory = os.environ["MOLECULE_INVENTORY_FILE"]

    def deploy(*inventories):
        args = ["ansible-playbook", *[a for i in inventories for a in ("-i", str(i))], "owui.realtime.deploy"]
        proc = subprocess.run(args, capture_output=True, text=True, timeout=1200, check=False,
                              env=dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0"))
        return proc.returncode, " ".join((proc.stdout + proc.stderr).split())

    code, output = deploy(inventory, override)
    assert code != 0, output[-3000:]
    assert f"Replica '{replica_url('mh-3')}' did not deliver" in output, output[-3000:]
    assert f"Replica '{replica_url('mh-2')}' did not deliver" not in output
    code, output = deploy(inventory)
    assert code == 0, output[-3000:]
