"""What the default scenario deployed, read back from the Docker engine itself."""

from __future__ import annotations

import json

testinfra_hosts = ["molecule-default"]


def test_network_is_a_user_defined_bridge_holding_both_containers(engine, hostvars, valkey, open_webui):
    net = engine.networks.get(hostvars["network_name"])
    assert net.attrs["Driver"] == "bridge"
    members = {c["Name"] for c in net.attrs["Containers"].values()}
    assert {valkey.name, open_webui.name} <= members


def test_valkey_keeps_only_the_capabilities_it_needs(valkey):
    host_config = valkey.attrs["HostConfig"]
    assert host_config["CapDrop"] == ["ALL"]
    assert sorted(host_config["CapAdd"]) == ["DAC_OVERRIDE", "SETGID", "SETUID"]
    assert host_config["ReadonlyRootfs"] is True
    assert "no-new-privileges:true" in host_config["SecurityOpt"]


def test_valkey_runs_as_the_valkey_user_not_root(valkey):
    _exit_code, status = valkey.exec_run(["cat", "/proc/1/status"])
    uids = next(line.split()[1:] for line in status.decode().splitlines() if line.startswith("Uid:"))
    _exit_code, valkey_uid = valkey.exec_run(["id", "-u", "valkey"])
    assert set(uids) == {valkey_uid.decode().strip()}, f"valkey-server runs with uids {uids}"
    assert "0" not in uids


def test_valkey_restart_policy_logging_and_no_published_port(valkey):
    host_config = valkey.attrs["HostConfig"]
    assert host_config["RestartPolicy"]["Name"] == "unless-stopped"
    assert host_config["LogConfig"] == {"Type": "json-file", "Config": {"max-size": "1m", "max-file": "1"}}
    assert not host_config.get("PortBindings")
    assert not valkey.attrs["NetworkSettings"]["Ports"].get("6379/tcp")


def test_valkey_health_check_is_the_guides(valkey, last_log_lines):
    health = valkey.attrs["Config"]["Healthcheck"]
    assert health["Interval"] == 1_000_000_000
    assert health["Timeout"] == 3_000_000_000
    assert health["Retries"] == 5
    assert health["StartPeriod"] == 5_000_000_000
    assert "ping" in health["Test"][1]
    assert valkey.attrs["State"]["Health"]["Status"] == "healthy", last_log_lines(valkey)


def test_valkey_data_volume_is_mounted_at_data(valkey, hostvars):
    mounts = {m["Destination"]: m for m in valkey.attrs["Mounts"]}
    assert mounts["/data"]["Type"] == "volume"
    assert mounts["/data"]["Name"] == hostvars["valkey_volume_name"]
    assert mounts["/etc/valkey"]["RW"] is False


def test_valkey_answers_its_alias_on_the_network(valkey, hostvars):
    aliases = valkey.attrs["NetworkSettings"]["Networks"][hostvars["network_name"]]["Aliases"]
    assert "redis" in aliases


def test_valkey_runs_the_guides_snapshot_rule(valkey, secrets):
    # Ask the running server, not the file: a grep for "save 30 1" also matches "save 30 10", and a
    # file Valkey has not (re)read proves nothing about what it does.
    code, out = valkey.exec_run(["valkey-cli", "--no-auth-warning", "--raw", "CONFIG", "GET", "save"],
                                environment={"REDISCLI_AUTH": secrets["valkey_admin"]})
    assert code == 0, out
    assert out.decode().splitlines() == ["save", "30 1"], out


def test_unauthenticated_clients_are_refused(valkey):
    _code, out = valkey.exec_run(["valkey-cli", "get", "anything"])
    assert b"NOAUTH" in out, out


def test_another_container_on_the_network_must_log_in(neighbour, secrets):
    assert "NOAUTH" in neighbour("-h", "redis", "PING")
    # The same client with Open WebUI's credentials gets in: the refusal above is about the login.
    assert neighbour("-h", "redis", "--user", "open-webui", "PING",
                     env={"REDISCLI_AUTH": secrets["valkey_open_webui"]}) == "PONG"


def test_open_webui_uses_valkey_for_websockets(open_webui):
    env = dict(item.split("=", 1) for item in open_webui.attrs["Config"]["Env"])
    assert env["ENABLE_WEBSOCKET_SUPPORT"] == "true"
    assert env["WEBSOCKET_MANAGER"] == "redis"
    assert env["WEBSOCKET_REDIS_URL"].startswith("redis://")
    assert env["WEBSOCKET_REDIS_URL"].endswith("@redis:6379/1")
    assert env["REDIS_URL"] == env["WEBSOCKET_REDIS_URL"]
    assert len(env["WEBUI_SECRET_KEY"]) >= 32


def test_open_webui_is_healthy_and_published_on_loopback_only(open_webui, last_log_lines):
    assert open_webui.attrs["State"]["Health"]["Status"] == "healthy", last_log_lines(open_webui)
    bindings = open_webui.attrs["HostConfig"]["PortBindings"]["8080/tcp"]
    assert bindings == [{"HostIp": "127.0.0.1", "HostPort": "3310"}]
    mounts = {m["Destination"]: m for m in open_webui.attrs["Mounts"]}
    assert mounts["/app/backend/data"]["Type"] == "volume"


def test_secrets_are_not_in_commands_or_health_checks(valkey, open_webui, secrets):
    for container in (valkey, open_webui):
        visible = json.dumps([container.attrs["Config"]["Cmd"], container.attrs["Config"]["Entrypoint"],
                              container.attrs["Config"]["Healthcheck"], container.attrs["Args"]])
        for secret in secrets.values():
            assert secret not in visible, f"a secret shows in {container.name}'s command or health check"


def test_websocket_check_proves_valkey_is_the_manager(websocket_check):
    result = websocket_check()
    for name in ("ping", "valkey_side", "websocket"):
        assert result["checks"][name]["status"] == "ok", result["checks"][name]


def _as_open_webui(valkey, secrets, *command):
    _exit_code, out = valkey.exec_run(["valkey-cli", "--no-auth-warning", "--user", "open-webui", *command],
                                      environment={"REDISCLI_AUTH": secrets["valkey_open_webui"]})
    return out.decode().strip()


def test_open_webuis_valkey_user_is_confined_to_its_prefix(valkey, secrets):
    # The same user may use its own keys: proves the refusals below are about the rules, not the login.
    assert _as_open_webui(valkey, secrets, "SET", "open-webui:confinement-probe", "1") == "OK"
    assert _as_open_webui(valkey, secrets, "DEL", "open-webui:confinement-probe") == "1"
    assert "NOPERM" in _as_open_webui(valkey, secrets, "FLUSHALL")
    assert "NOPERM" in _as_open_webui(valkey, secrets, "CONFIG", "GET", "save")
    assert "NOPERM" in _as_open_webui(valkey, secrets, "SET", "elsewhere:key", "1")
    assert "NOPERM" in _as_open_webui(valkey, secrets, "GET", "elsewhere:key")
    assert "NOPERM" in _as_open_webui(valkey, secrets, "PUBLISH", "another-channel", "x")


def test_open_webuis_valkey_user_has_only_the_command_categories_it_uses(valkey, secrets):
    # Lua with its own keys is part of what Open WebUI does (locks, task streams): allowed.
    assert _as_open_webui(valkey, secrets, "EVAL", "return redis.call('SET', KEYS[1], '1')", "1", "open-webui:lua-probe") == "OK"
    assert _as_open_webui(valkey, secrets, "DEL", "open-webui:lua-probe") == "1"
    for command in (["SCRIPT", "FLUSH"], ["FUNCTION", "FLUSH"], ["CLIENT", "LIST"], ["KEYS", "open-webui:*"],
                    ["XADD", "open-webui:stream", "*", "a", "1"], ["SETBIT", "open-webui:bits", "1", "1"]):
        assert "NOPERM" in _as_open_webui(valkey, secrets, *command), command


def test_verify_runs_on_its_own(verify_playbook):
    code, output = verify_playbook()
    assert code == 0, output[-3000:]
    assert "Open WebUI uses Valkey for websockets" in output
