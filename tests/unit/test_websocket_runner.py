"""The order of the checks and the polling, fed with recorded engine answers: `docker inspect`
documents, valkey-cli output and handshake results as the real probes return them."""

from __future__ import annotations

import copy

from ansible_collections.owui.realtime.plugins.module_utils.check_settings import settings_from
from ansible_collections.owui.realtime.plugins.module_utils.websocket_runner import (
    Probes,
    run,
)

URL_PASSWORD = "from-the-url"

OPEN_WEBUI = {
    "Id": "a1",
    "State": {"Status": "running", "Running": True, "Paused": False, "StartedAt": "2026-11-27T05:58:34.377790765Z",
              "Health": {"Status": "healthy"}},
    "Config": {"Tty": False, "Env": [
        "ENABLE_WEBSOCKET_SUPPORT=true",
        "WEBSOCKET_MANAGER=redis",
        f"WEBSOCKET_REDIS_URL=redis://:{URL_PASSWORD}@redis:6379/1",
    ]},
    "NetworkSettings": {
        "Ports": {"8080/tcp": [{"HostIp": "127.0.0.1", "HostPort": "13000"}]},
        "Networks": {"openwebui-network": {"IPAddress": "172.25.0.3", "GlobalIPv6Address": ""}},
    },
}
VALKEY = {
    "Id": "v1",
    "State": {"Status": "running", "Running": True, "Paused": False, "StartedAt": "2026-11-27T05:58:30Z"},
    "Config": {"Tty": False, "Env": []},
    "NetworkSettings": {"Networks": {"openwebui-network": {"IPAddress": "172.25.0.2"}}},
}
# valkey-cli --raw output recorded from Valkey 8.1 next to a healthy Open WebUI 0.12.4.
CLIENT_LIST = (
    "id=2 addr=172.25.0.3:55822 laddr=172.25.0.2:6379 fd=10 name= age=9 idle=0 flags=N db=1 sub=0 psub=0 cmd=hexists\n"
    "id=3 addr=172.25.0.3:55828 laddr=172.25.0.2:6379 fd=11 name= age=9 idle=9 flags=P db=1 sub=1 psub=0 cmd=subscribe\n"
    "id=8 addr=127.0.0.1:59586 laddr=127.0.0.1:6379 fd=13 name= age=0 idle=0 flags=N db=0 sub=0 psub=0 cmd=client|list\n"
)
VALKEY_CLI = {
    "PING": (0, "PONG\n", ""),
    "NUMSUB": (0, "socketio\n1\n", ""),
    "LIST": (0, CLIENT_LIST, ""),
    "keyspace": (0, "# Keyspace\r\ndb1:keys=2,expires=2,avg_ttl=56848\r\n", ""),
    "--scan": (0, "open-webui:usage_cleanup_lock\nopen-webui:session_cleanup_lock\n", ""),
}


class World:
    """Recorded answers; what a test changes here is the input, not the runner."""

    def __init__(self) -> None:
        self.containers = {"open-webui": copy.deepcopy(OPEN_WEBUI), "redis-valkey": copy.deepcopy(VALKEY)}
        self.cli = dict(VALKEY_CLI)
        self.handshakes = [{"ok": True, "sid": "abc", "transport": "websocket"}]
        self.execs: list[dict] = []
        self.secrets: list[str] = []
        self.log = "2026-11-27T05:58:40Z INFO:     Application startup complete.\n"

    def exec_run(self, container, argv, env):
        self.execs.append({"argv": argv, "env": env})
        key = next(k for k in self.cli if k in argv)
        return self.cli[key]

    def handshake(self, url, timeout):
        return self.handshakes.pop(0) if len(self.handshakes) > 1 else self.handshakes[0]

    def probes(self) -> Probes:
        return Probes(
            inspect=self.containers.get,
            logs=lambda inspect, since: self.log,
            exec_run=self.exec_run,
            handshake=self.handshake,
            register_secret=self.secrets.append,
        )


def check(world: World, **settings) -> dict:
    return run(settings_from({"open_webui_url": "http://127.0.0.1:13000", **settings}), world.probes(), sleep=lambda s: None)


def test_a_healthy_stack_passes_in_one_round():
    result = check(World(), valkey_password="admin-pw")
    assert result["failed"] is False
    assert result["attempts"] == 1
    assert result["msg"] == (
        "Open WebUI uses Valkey for websockets: PONG; 1/1 subscribed to socketio (1 subscribers in all); "
        "1/1 clients connected; 2 keys under open-webui: in db 1; websocket handshake ok"
    )


def test_credentials_come_from_the_containers_url_and_stay_secret():
    world = World()
    result = check(world)
    assert result["failed"] is False
    assert result["valkey"]["credentials"] == "WEBSOCKET_REDIS_URL of 'open-webui'"
    assert world.execs[0]["env"] == {"REDISCLI_AUTH": URL_PASSWORD}
    assert URL_PASSWORD in world.secrets
    assert URL_PASSWORD not in repr(result)


def test_waits_while_open_webui_is_still_starting():
    world = World()
    world.handshakes = [{"ok": False, "error": "Connection error (Connection refused)"},
                        {"ok": True, "sid": "abc", "transport": "websocket"}]
    result = check(world, valkey_password="admin-pw", interval=1)
    assert result["failed"] is False
    assert result["attempts"] == 2


def test_a_configuration_fact_is_not_waited_on():
    world = World()
    world.containers["open-webui"]["Config"]["Env"].remove("WEBSOCKET_MANAGER=redis")
    result = check(world, valkey_password="admin-pw", wait_timeout=60)
    assert result["failed"] is True
    assert result["attempts"] == 1
    assert result["causes"][0]["id"] == "manager_not_redis"


def test_another_containers_subscription_does_not_count_for_this_one():
    world = World()
    # NUMSUB still 1 (some other Open WebUI), but this container holds no pub/sub connection.
    world.cli["LIST"] = (0, CLIENT_LIST.replace("flags=P db=1 sub=1", "flags=N db=1 sub=0"), "")
    result = check(world, valkey_password="admin-pw", wait_timeout=0)
    assert result["failed"] is True
    assert [c["id"] for c in result["causes"]] == ["container_not_subscribed"]


def test_no_url_to_handshake_is_named_when_the_websocket_is_required():
    world = World()
    world.containers["open-webui"]["NetworkSettings"]["Ports"] = {}
    result = run(settings_from({"valkey_password": "admin-pw"}), world.probes(), sleep=lambda s: None)
    assert result["failed"] is True
    assert result["causes"][0]["id"] == "no_websocket_url"
    skipped = run(settings_from({"valkey_password": "admin-pw", "require": ["ping", "valkey_side"]}), world.probes())
    assert skipped["failed"] is False
    assert skipped["checks"]["websocket"]["status"] == "skipped"


def test_a_stopped_valkey_is_named_and_the_valkey_side_is_not_run():
    world = World()
    world.containers["redis-valkey"]["State"].update(Status="exited", Running=False, ExitCode=0)
    result = check(world, valkey_password="admin-pw")
    assert result["failed"] is True
    assert result["causes"][0]["id"] == "valkey_container_not_running"
    assert not any("NUMSUB" in e["argv"] for e in world.execs)


# ------------------------------------------------------------------------------------------
# TLS: the check speaks to Valkey the way Open WebUI does, unless told otherwise
# ------------------------------------------------------------------------------------------

TLS_URL = f"WEBSOCKET_REDIS_URL=rediss://open-webui:{URL_PASSWORD}@redis:6379/1?ssl_ca_certs=/etc/owui-realtime/valkey-ca.crt"


def tls_world() -> World:
    world = World()
    env = world.containers["open-webui"]["Config"]["Env"]
    env[env.index(f"WEBSOCKET_REDIS_URL=redis://:{URL_PASSWORD}@redis:6379/1")] = TLS_URL
    return world


def test_tls_follows_the_containers_rediss_url():
    world = tls_world()
    result = check(world, valkey_tls_ca_cert="/etc/valkey/tls/ca.crt")
    assert result["failed"] is False
    ping = result["checks"]["ping"]["evidence"]
    assert (ping["tls"], ping["tls_from"], ping["tls_ca_cert"]) == (True, "WEBSOCKET_REDIS_URL of 'open-webui'",
                                                                    "/etc/valkey/tls/ca.crt")
    argv = world.execs[0]["argv"]
    assert argv[0] == "timeout"
    assert argv[argv.index("--tls"):argv.index("--tls") + 3] == ["--tls", "--cacert", "/etc/valkey/tls/ca.crt"]
    assert world.execs[0]["env"] == {"REDISCLI_AUTH": URL_PASSWORD}
    assert "TLS, CA /etc/valkey/tls/ca.crt" in result["valkey"]["via"]


def test_the_ca_path_of_open_webuis_url_is_not_used_in_valkeys_container():
    world = tls_world()
    result = check(world)
    assert result["valkey"]["tls"] is True
    assert result["valkey"]["tls_ca_cert"] is None
    assert "--cacert" not in world.execs[0]["argv"]


def test_a_redis_url_means_plaintext_and_says_so():
    world = World()
    result = check(world, valkey_tls_ca_cert="/etc/valkey/tls/ca.crt")
    assert (result["valkey"]["tls"], result["valkey"]["tls_from"]) == (
        False, "WEBSOCKET_REDIS_URL of 'open-webui' (valkey_tls_ca_cert not used)")
    assert "--tls" not in world.execs[0]["argv"]
    assert world.execs[0]["argv"][0] == "valkey-cli"


def test_given_valkey_tls_wins_over_the_containers_url():
    world = tls_world()
    result = check(world, valkey_tls=False)
    assert (result["valkey"]["tls"], result["valkey"]["tls_from"]) == (False, "given")
    assert "--tls" not in world.execs[0]["argv"]


def test_without_any_url_tls_is_off_by_default():
    world = World()
    result = run(settings_from({"open_webui_containers": [], "require": ["ping"]}), world.probes(), sleep=lambda s: None)
    assert result["failed"] is False
    assert (result["valkey"]["tls"], result["valkey"]["tls_from"]) == (False, "default off")


def test_plaintext_against_a_tls_only_valkey_is_named_at_once():
    world = World()  # Open WebUI's URL says redis://, Valkey serves TLS only: recorded valkey-cli output
    for key in world.cli:
        world.cli[key] = (1, "", "\nI/O error\n\nI/O error\nError: Connection reset by peer\n")
    result = check(world, valkey_password="admin-pw", wait_timeout=60)
    assert result["failed"] is True
    assert result["attempts"] == 1
    assert result["causes"][0]["id"] == "tls_mismatch"
    assert "valkey_tls: true" in result["causes"][0]["fix"]


def test_an_unknown_ca_is_a_certificate_cause():
    world = tls_world()
    world.cli["PING"] = (1, "", "Could not connect to Valkey at 127.0.0.1:6379: SSL_connect failed: certificate verify failed\n")
    result = check(world, wait_timeout=60)
    assert result["attempts"] == 1
    assert result["causes"][0]["id"] == "tls_certificate"
    assert result["checks"]["ping"]["evidence"]["tls_ca_cert"] is None


MADE: list[dict] = []


class FakeRedis:
    """Stands in for ValkeyViaRedisPy: records what the runner chose, answers like an empty Valkey."""

    def __init__(self, parsed, display_url, db, timeout, username=None, password=None, *, tls, ca_cert):
        self.tls = tls
        MADE.append({"parsed": parsed, "display_url": display_url, "tls": tls, "ca_cert": ca_cert})

    def describe(self):
        return "fake"

    def ping(self):
        return "PONG"

    def numsub(self, channel):
        return 0

    def client_list(self):
        return []

    def count_keys(self, prefix, db):
        return 0

    def keyspace(self):
        return {}


def url_check(url: str, **settings) -> dict:
    MADE.clear()
    probes = World().probes()
    probes.make_redis = FakeRedis
    return run(settings_from({"valkey_url": url, "open_webui_containers": [], "require": ["ping"], **settings}), probes)


def test_valkey_url_scheme_and_its_ssl_ca_certs_decide_for_redis_py():
    result = url_check("rediss://:pw@valkey.internal:6380/1?ssl_ca_certs=/etc/ssl/valkey-ca.crt")
    assert (result["valkey"]["tls"], result["valkey"]["tls_from"]) == (True, "valkey_url")
    assert MADE[0]["tls"] is True
    assert MADE[0]["ca_cert"] == "/etc/ssl/valkey-ca.crt"
    assert "pw" not in MADE[0]["display_url"]


def test_given_ca_wins_over_the_urls_and_plaintext_urls_stay_plaintext():
    url_check("rediss://valkey.internal:6380/1?ssl_ca_certs=/url/ca.crt", valkey_tls_ca_cert="/given/ca.crt")
    assert MADE[0]["ca_cert"] == "/given/ca.crt"
    result = url_check("redis://valkey.internal:6379/1")
    assert (result["valkey"]["tls"], result["valkey"]["tls_from"], MADE[0]["ca_cert"]) == (
        False, "valkey_url", None)
    forced = url_check("redis://valkey.internal:6379/1", valkey_tls=True, valkey_tls_ca_cert="/given/ca.crt")
    assert (forced["valkey"]["tls"], forced["valkey"]["tls_from"], MADE[0]["ca_cert"]) == (
        True, "given", "/given/ca.crt")


def test_run_registers_secrets_through_the_callers_probes_without_rebinding_them():
    world = World()
    probes = world.probes()
    register = probes.register_secret
    run(settings_from({"open_webui_url": "http://127.0.0.1:13000", "valkey_password": "admin-pw"}), probes,
        sleep=lambda s: None)
    assert probes.register_secret is register
    assert world.secrets == ["admin-pw", URL_PASSWORD]


# ------------------------------------------------------------------------------------------
# The verdicts that need Open WebUI's log or Valkey's client list to say something
# ------------------------------------------------------------------------------------------

# What an Open WebUI release with the in-memory fallback printed when Valkey refused it at start.
FALLBACK_LINE = ("2026-11-27T05:58:41Z ERROR:open_webui.socket.main:Failed to initialize Redis websocket manager: "
                 f"WRONGPASS invalid username-password pair (redis://:{URL_PASSWORD}@redis:6379/1). "
                 "Falling back to local manager.\n")


def test_a_fallback_in_the_log_fails_the_open_webui_check_even_when_valkey_looks_fine():
    world = World()
    world.log += FALLBACK_LINE
    result = check(world, valkey_password="admin-pw")
    assert result["failed"] is True
    assert result["checks"]["open_webui"]["status"] == "failed"
    assert [c["id"] for c in result["causes"]] == ["in_memory_fallback"]
    assert result["checks"]["open_webui"]["detail"].startswith("Open WebUI container 'open-webui' fell back")
    assert "restart Open WebUI" in result["causes"][0]["fix"]
    assert URL_PASSWORD not in repr(result)
    assert result["attempts"] == 1, "a fallback does not heal by waiting"


def test_valkey_errors_open_webui_logged_explain_a_failing_valkey_side():
    world = World()
    world.cli["--scan"] = (0, "", "")
    world.cli["keyspace"] = (0, "# Keyspace\r\n", "")
    world.log += ("2026-11-27T05:58:42Z Redis denied subscribing: No permissions to access a channel. "
                  "Check SUBSCRIBE/UNSUBSCRIBE/PING permissions\n")
    result = check(world, valkey_password="admin-pw", wait_timeout=0)
    side = result["checks"]["valkey_side"]
    assert [c["id"] for c in side["causes"]] == ["no_keys", "valkey_errors_in_log"]
    hint = side["causes"][1]
    assert "Redis denied subscribing" in hint["message"]
    assert hint["fix"].startswith("noperm: ")
    # The same line next to a passing Valkey side is evidence only, not a cause.
    world = World()
    world.log += "2026-11-27T05:58:42Z Cannot receive from redis... retrying in 1 secs\n"
    passing = check(world, valkey_password="admin-pw")
    assert passing["failed"] is False
    assert passing["checks"]["log_line"]["evidence"]["open-webui"]["valkey_errors"]


def test_fewer_subscribers_than_containers_is_not_subscribed_and_waited_on():
    world = World()
    world.cli["NUMSUB"] = (0, "socketio\n0\n", "")
    world.cli["LIST"] = (0, CLIENT_LIST.replace("flags=P db=1 sub=1", "flags=N db=1 sub=0"), "")
    slept: list[float] = []
    result = run(settings_from({"open_webui_url": "http://127.0.0.1:13000", "valkey_password": "admin-pw",
                                "wait_timeout": 0.05, "interval": 0.01}), world.probes(), sleep=slept.append)
    assert result["failed"] is True
    ids = [c["id"] for c in result["causes"]]
    assert ids[0] == "not_subscribed", ids
    assert "0 subscribers" in result["causes"][0]["message"]
    assert result["attempts"] > 1 and slept, "after a handshake a missing subscription may still come: wait"


def test_no_connection_from_the_containers_address_is_named():
    world = World()
    # Valkey's only clients come from elsewhere (another Open WebUI, another network).
    world.cli["LIST"] = (0, CLIENT_LIST.replace("172.25.0.3", "172.25.0.9"), "")
    result = check(world, valkey_password="admin-pw", wait_timeout=0)
    assert result["failed"] is True
    (item,) = [c for c in result["causes"] if c["id"] == "no_client_connection"]
    assert "'open-webui' (172.25.0.3)" in item["message"]
    assert result["checks"]["valkey_side"]["evidence"]["clients"] == {"open-webui": []}


def test_after_a_valkey_outage_a_failed_handshake_and_logged_errors_are_waited_out():
    # Round 1, as right after Valkey came back: the handshake is refused, Open WebUI is not subscribed
    # yet and its log holds the outage's errors. Round 2: it has reconnected and subscribed.
    world = World()
    healthy = dict(world.cli)
    world.cli["NUMSUB"] = (0, "socketio\n0\n", "")
    world.cli["LIST"] = (0, CLIENT_LIST.replace("flags=P db=1 sub=1", "flags=N db=1 sub=0"), "")
    world.log += "2026-11-27T05:58:42Z Cannot receive from redis... retrying in 1 secs\n"
    refused = [{"ok": False, "error": "Connection error (Connection refused)"}]

    def handshake(url, timeout):
        if refused:
            return refused.pop()
        world.cli.update(healthy)
        return {"ok": True, "sid": "abc", "transport": "websocket"}

    world.handshake = handshake
    result = check(world, valkey_password="admin-pw", interval=1)
    assert result["failed"] is False, result["causes"]
    assert result["attempts"] == 2


def test_no_subscription_without_any_handshake_is_not_waited_on():
    # Control for the test above: with no URL to open a client (none given, no port published), nothing
    # will make Open WebUI subscribe.
    world = World()
    world.containers["open-webui"]["NetworkSettings"]["Ports"] = {}
    world.cli["NUMSUB"] = (0, "socketio\n0\n", "")
    world.cli["LIST"] = (0, CLIENT_LIST.replace("flags=P db=1 sub=1", "flags=N db=1 sub=0"), "")
    result = run(settings_from({"valkey_password": "admin-pw", "wait_timeout": 60, "interval": 1,
                                "require": ["ping", "valkey_side"]}), world.probes(), sleep=lambda s: None)
    assert result["failed"] is True
    assert result["attempts"] == 1
    assert result["causes"][0]["id"] == "not_subscribed"
