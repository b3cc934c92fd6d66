"""Parsing and decisions behind owui.realtime.websocket_check, fed with what Valkey, Docker and
Open WebUI really print (samples recorded from Valkey 8.1 and the Docker engine)."""

from __future__ import annotations

import json

import pytest

from ansible_collections.owui.realtime.plugins.module_utils.causes import CAUSES, cause
from ansible_collections.owui.realtime.plugins.module_utils.docker_time import docker_since, parse_docker_time
from ansible_collections.owui.realtime.plugins.module_utils.log_scan import log_message, scan_log
from ansible_collections.owui.realtime.plugins.module_utils.masking import mask_url, scrub
from ansible_collections.owui.realtime.plugins.module_utils.open_webui_container import (
    config_causes,
    container_addresses,
    env_to_dict,
    open_webui_settings,
    published_url,
)
from ansible_collections.owui.realtime.plugins.module_utils.redis_url import is_loopback, parse_redis_url
from ansible_collections.owui.realtime.plugins.module_utils.valkey_errors import classify_valkey_error
from ansible_collections.owui.realtime.plugins.module_utils.valkey_replies import (
    client_ip,
    glob_escape,
    is_subscriber,
    parse_client_list,
    parse_keyspace,
    parse_numsub,
)
from ansible_collections.owui.realtime.plugins.module_utils.verdict import (
    all_causes,
    check_entry,
    failed_required,
    required_checks,
    summary,
    worth_waiting,
)

# ------------------------------------------------------------------------------------------
# Secrets
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("redis://redis:6379/1", "redis://redis:6379/1"),
        ("redis://:s3cret@redis:6379/1", "redis://:********@redis:6379/1"),
        ("rediss://open-webui:p%40ss@valkey.internal:6380/0", "rediss://open-webui:********@valkey.internal:6380/0"),
        ("redis://open-webui@redis:6379/1", "redis://open-webui@redis:6379/1"),
    ],
)
def test_mask_url_hides_only_the_password(url, shown):
    assert mask_url(url) == shown


def test_scrub_masks_urls_and_known_secrets_in_free_text():
    text = "Error connecting to redis://:hunter2@redis:6379/1; AUTH hunter2 failed, token=abc"
    assert scrub(text, ("hunter2", "")) == (
        "Error connecting to redis://:********@redis:6379/1; AUTH ******** failed, token=abc"
    )


# ------------------------------------------------------------------------------------------
# Open WebUI's environment
# ------------------------------------------------------------------------------------------


def test_parse_redis_url_reads_all_parts_and_decodes_credentials():
    parsed = parse_redis_url("rediss://open-webui:p%40ss%3Aw@valkey.internal:6380/2")
    assert parsed == {
        "scheme": "rediss",
        "host": "valkey.internal",
        "port": 6380,
        "username": "open-webui",
        "password": "p@ss:w",
        "db": 2,
        "tls": True,
        "ca_certs": None,
    }


def test_parse_redis_url_reads_the_ca_file_redis_py_would_use():
    # What the open_webui role gives Open WebUI when Valkey serves TLS only.
    parsed = parse_redis_url("rediss://open-webui:pw@redis:6379/1?ssl_ca_certs=/etc/owui-realtime/valkey-ca.crt")
    assert (parsed["tls"], parsed["db"], parsed["ca_certs"]) == (True, 1, "/etc/owui-realtime/valkey-ca.crt")
    assert parse_redis_url("rediss://redis:6379/1?ssl_ca_certs=%2Fetc%2Fca%20dir%2Fca.crt")["ca_certs"] == "/etc/ca dir/ca.crt"
    assert parse_redis_url("redis://redis:6379/1")["ca_certs"] is None


def test_parse_redis_url_defaults_port_and_db():
    parsed = parse_redis_url("redis://redis-valkey")
    assert (parsed["port"], parsed["db"], parsed["password"], parsed["tls"]) == (6379, 0, None, False)


def test_parse_redis_url_takes_db_from_query():
    assert parse_redis_url("redis://redis:6379?db=3")["db"] == 3


@pytest.mark.parametrize("url", ["http://redis:6379/1", "redis://redis:6379/one", "redis:///1", "redis://redis:99999/1"])
def test_parse_redis_url_refuses_what_redis_py_would_not_use(url):
    with pytest.raises(ValueError):
        parse_redis_url(url)


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.0.1.1", True),
        ("localhost", True),
        ("LOCALHOST", True),
        ("::1", True),
        ("[::1]", True),
        ("0.0.0.0", True),
        ("redis", False),
        ("redis-valkey", False),
        ("172.18.0.2", False),
    ],
)
def test_is_loopback(host, loopback):
    assert is_loopback(host) is loopback


GUIDE_ENV = [
    "PATH=/usr/local/bin:/usr/bin",
    "ENABLE_WEBSOCKET_SUPPORT=true",
    "WEBSOCKET_MANAGER=redis",
    "WEBSOCKET_REDIS_URL=redis://redis-valkey:6379/1",
    "PORT=8080",
]


def settings_of(env: list[str]) -> dict:
    return open_webui_settings(env_to_dict(env))


def test_env_to_dict_keeps_equals_signs_in_values():
    assert env_to_dict(["A=b=c", "EMPTY=", "NOEQUALS"]) == {"A": "b=c", "EMPTY": ""}


def test_the_guides_environment_has_no_config_cause():
    assert config_causes("open-webui", settings_of(GUIDE_ENV), 1, "open-webui") == []


def test_manager_unset_means_open_webui_is_not_using_valkey():
    env = [item for item in GUIDE_ENV if not item.startswith("WEBSOCKET_MANAGER=")]
    causes = config_causes("open-webui", settings_of(env), 1, "open-webui")
    assert [c["id"] for c in causes] == ["manager_not_redis"]
    assert "Open WebUI is not using Valkey" in causes[0]["message"]
    assert causes[0]["transient"] is False


def test_loopback_url_is_named_with_its_password_masked():
    env = ["WEBSOCKET_MANAGER=redis", "WEBSOCKET_REDIS_URL=redis://:pw123@127.0.0.1:6379/1"]
    (item,) = config_causes("open-webui", settings_of(env), 1, "open-webui")
    assert item["id"] == "loopback_url"
    assert "redis://:********@127.0.0.1:6379/1" in item["message"]
    assert "pw123" not in item["message"] + item["fix"]


@pytest.mark.parametrize("value", ["false", "False", "0", "no", "", " true"])
def test_websocket_support_is_off_unless_true(value):
    env = [*GUIDE_ENV, f"ENABLE_WEBSOCKET_SUPPORT={value}"]
    ids = [c["id"] for c in config_causes("open-webui", settings_of(env), 1, "open-webui")]
    assert ids == ["websocket_disabled"]


def test_websocket_support_defaults_to_on():
    env = [item for item in GUIDE_ENV if not item.startswith("ENABLE_WEBSOCKET_SUPPORT=")]
    assert settings_of(env)["enable_websocket_support"] is True


def test_redis_url_falls_back_to_redis_url_only_when_unset():
    env = ["WEBSOCKET_MANAGER=redis", "REDIS_URL=redis://redis:6379/1"]
    assert settings_of(env)["redis_url_source"] == "REDIS_URL"
    assert config_causes("o", settings_of(env), 1, "open-webui") == []
    # Set but empty is not unset: Open WebUI's os.getenv default does not apply.
    (item,) = config_causes("o", settings_of([*env, "WEBSOCKET_REDIS_URL="]), 1, "open-webui")
    assert item["id"] == "redis_url_missing"
    (item,) = config_causes("o", settings_of(["WEBSOCKET_MANAGER=redis"]), 1, "open-webui")
    assert item["id"] == "redis_url_missing"


@pytest.mark.parametrize("value", ["Redis", "REDIS", " redis", "valkey"])
def test_manager_must_be_exactly_redis(value):
    env = [*GUIDE_ENV, f"WEBSOCKET_MANAGER={value}"]
    ids = [c["id"] for c in config_causes("o", settings_of(env), 1, "open-webui")]
    assert ids == ["manager_not_redis"]


def test_sentinel_setups_are_not_judged_by_the_url_host():
    env = ["WEBSOCKET_MANAGER=redis", "WEBSOCKET_REDIS_URL=redis://mymaster/1", "WEBSOCKET_SENTINEL_HOSTS=s1,s2"]
    assert config_causes("o", settings_of(env), 1, "open-webui") == []


def test_db_and_prefix_mismatches_are_named():
    env = [*GUIDE_ENV, "REDIS_KEY_PREFIX=owui"]
    ids = {c["id"]: c for c in config_causes("open-webui", settings_of(env), 2, "open-webui")}
    assert set(ids) == {"db_mismatch", "prefix_mismatch"}
    assert "another db than Open WebUI uses" in ids["db_mismatch"]["message"]
    assert "valkey_db=1" in ids["db_mismatch"]["fix"]


INSPECT = {
    "Id": "0f3c",
    "State": {"Status": "running", "Running": True, "Paused": False, "StartedAt": "2026-11-27T05:35:10.98765432Z"},
    "Config": {"Env": GUIDE_ENV, "Tty": False},
    "NetworkSettings": {
        "Ports": {"8080/tcp": [{"HostIp": "127.0.0.1", "HostPort": "3000"}]},
        "Networks": {
            "openwebui-network": {"IPAddress": "172.18.0.3", "GlobalIPv6Address": ""},
            "bridge": {"IPAddress": "172.17.0.2", "GlobalIPv6Address": ""},
        },
    },
}


def test_container_addresses_lists_every_network():
    assert container_addresses(INSPECT) == ["172.18.0.3", "172.17.0.2"]


def test_published_url_uses_the_bound_address():
    assert published_url(INSPECT) == "http://127.0.0.1:3000"
    any_address = {"NetworkSettings": {"Ports": {"8080/tcp": [{"HostIp": "0.0.0.0", "HostPort": "49153"}]}}}
    assert published_url(any_address) == "http://127.0.0.1:49153"
    assert published_url({"NetworkSettings": {"Ports": {"8080/tcp": None}}}) is None


# ------------------------------------------------------------------------------------------
# Valkey replies (recorded from valkey-cli 8.1.1 --raw)
# ------------------------------------------------------------------------------------------

CLIENT_LIST = (
    "id=6 addr=127.0.0.1:59438 laddr=127.0.0.1:6379 fd=10 name= age=0 idle=0 flags=N capa= db=0 sub=0 "
    "psub=0 ssub=0 multi=-1 watch=0 qbuf=0 qbuf-free=0 argv-mem=10 multi-mem=0 rbs=16384 rbp=16384 obl=0 "
    "oll=0 omem=0 tot-mem=17050 events=r cmd=client|list user=default redir=-1 resp=2 lib-name= lib-ver= "
    "tot-net-in=52 tot-net-out=5 tot-cmds=1\n"
    "id=3 addr=172.18.0.3:42118 laddr=172.18.0.2:6379 fd=8 name= age=12 idle=12 flags=P capa= db=1 sub=1 "
    "psub=0 ssub=0 multi=-1 watch=0 qbuf=0 qbuf-free=0 argv-mem=0 multi-mem=0 rbs=1024 rbp=0 obl=0 oll=0 "
    "omem=0 tot-mem=1928 events=r cmd=subscribe user=default redir=-1 resp=2 lib-name=redis-py lib-ver=5.2.1\n"
    "id=9 addr=[fd00::5]:40000 laddr=[fd00::2]:6379 fd=9 name=worker db=1 cmd=hset\n"
)


def test_parse_client_list_and_peer_addresses():
    clients = parse_client_list(CLIENT_LIST)
    assert [c["id"] for c in clients] == ["6", "3", "9"]
    assert [client_ip(c) for c in clients] == ["127.0.0.1", "172.18.0.3", "fd00::5"]
    assert clients[1]["cmd"] == "subscribe"
    assert clients[1]["db"] == "1"
    assert clients[0]["name"] == ""


def test_is_subscriber_spots_pub_sub_connections():
    clients = parse_client_list(CLIENT_LIST)
    assert [is_subscriber(c) for c in clients] == [False, True, False]
    assert is_subscriber({"flags": "N", "sub": "2"}) is True


def test_parse_numsub():
    assert parse_numsub("socketio\n2\n") == {"socketio": 2}
    assert parse_numsub("socketio\n0\n") == {"socketio": 0}


def test_parse_keyspace():
    text = "# Keyspace\r\ndb0:keys=2,expires=0,avg_ttl=0\r\ndb3:keys=1,expires=1,avg_ttl=5000\r\n"
    assert parse_keyspace(text) == {0: 2, 3: 1}
    assert parse_keyspace("# Keyspace\r\n") == {}


def test_glob_escape_makes_a_prefix_literal():
    assert glob_escape("open-webui") == "open-webui"
    assert glob_escape("a*b?[c]\\") == "a\\*b\\?\\[c\\]\\\\"


DENIED = (
    "DENIED Running in protected mode because protected mode is enabled and no password is set for the "
    "default user. In this mode connections are only accepted from the loopback interface."
)
MISCONF = (
    "MISCONF Valkey is configured to save RDB snapshots, but it's currently unable to persist to disk. "
    "Commands that may modify the data set are disabled, because this instance is configured to report "
    "errors during writes if RDB snapshotting fails (stop-writes-on-bgsave-error option)."
)


@pytest.mark.parametrize(
    ("text", "cause_id"),
    [
        (DENIED, "protected_mode"),
        ("NOAUTH Authentication required.", "noauth"),
        # valkey-cli with a wrong REDISCLI_AUTH: the AUTH failure, then the command's NOAUTH.
        ("AUTH failed: WRONGPASS invalid username-password pair or user is disabled.\nNOAUTH Authentication required.",
         "wrongpass"),
        # redis-py, after valkey_probe.redis_error_text put the code back.
        ("WRONGPASS invalid username-password pair or user is disabled.", "wrongpass"),
        (("AUTH failed: ERR AUTH <password> called without any password configured for the default user. "
         "Are you sure your configuration is correct?"), "auth_not_configured"),
        ("NOPERM User open-webui has no permissions to run the 'client|list' command", "noperm"),
        # Open WebUI 0.12's room-channel manager; redis-py dropped the NOPERM code.
        (("Redis denied subscribing: No permissions to access a channel. Check SUBSCRIBE/UNSUBSCRIBE/PING "
         "permissions"), "noperm"),
        (MISCONF, "misconf"),
        ("LOADING Valkey is loading the dataset in memory", "loading"),
        ("Could not connect to Valkey at nosuchhost:6379: Name or service not known", "name_resolution"),
        ("ConnectionError: Error -3 connecting to valkey:6379. Temporary failure in name resolution.", "name_resolution"),
        ("Could not connect to Valkey at 127.0.0.1:6390: Connection refused", "connection_refused"),
        ("TimeoutError: Timeout connecting to server", "valkey_timeout"),
        ("ERR unknown command 'FOO'", "valkey_error"),
    ],
)
def test_classify_valkey_error_names_the_cause(text, cause_id):
    item = classify_valkey_error(text, "ping", "valkey-cli in 'redis-valkey'")
    assert item["id"] == cause_id
    assert item["check"] == "ping"
    assert item["fix"]


# Recorded from Valkey 8.1 serving TLS only (port 0, tls-port 6379, tls-auth-clients no) and from a
# plaintext Valkey 8.1: valkey-cli's output as ValkeyViaExec passes it on, redis-py 8's errors
# after redis_error_text.
CLI_PLAINTEXT_TO_TLS = "I/O error\n\nI/O error\nError: Connection reset by peer"
CLI_SCAN_PLAINTEXT_TO_TLS = "I/O error"
PY_PLAINTEXT_TO_TLS = "ConnectionError: Error while reading from 172.17.0.2:6379 : (104, 'Connection reset by peer')"
# the same through a port published with docker run -p 127.0.0.1:16399:6379 (docker-proxy)
PY_PLAINTEXT_TO_TLS_PUBLISHED = "ConnectionError: Connection closed by server."
CLI_UNKNOWN_CA = "Could not connect to Valkey at 127.0.0.1:6379: SSL_connect failed: certificate verify failed"
PY_UNKNOWN_CA = (
    "ConnectionError: Error 1 connecting to 172.17.0.2:6379. [SSL: CERTIFICATE_VERIFY_FAILED] certificate verify "
    "failed: self-signed certificate in certificate chain (_ssl.c:1006)."
)
PY_IP_NOT_IN_CERT = (
    "ConnectionError: Error 1 connecting to 172.17.0.4:6379. [SSL: CERTIFICATE_VERIFY_FAILED] certificate verify "
    "failed: IP address mismatch, certificate is not valid for '172.17.0.4'. (_ssl.c:1006)."
)
CLI_BAD_CA_FILE = (
    "Could not negotiate a TLS connection: Invalid CA Certificate File/Directory\n"
    "Could not negotiate a TLS connection: Invalid CA Certificate File/Directory"
)
PY_CA_FILE_NOT_PEM = (
    "ConnectionError: Error 136 connecting to 172.17.0.2:6379. [X509: NO_CERTIFICATE_OR_CRL_FOUND] no certificate "
    "or crl found (_ssl.c:4154)."
)
# valkey-cli against a Valkey that requires client certificates (tls-auth-clients yes).
CLI_NO_CLIENT_CERT = "I/O error\n\nI/O error\nError: Server closed the connection"
# TLS to a plaintext Valkey hangs; these are the texts the probes make of the hang.
CLI_TLS_TO_PLAINTEXT = "valkey-cli --tls got no answer within 10s over TLS (port 6379; `timeout` stopped it with exit code 124)"
PY_TLS_TO_PLAINTEXT = ("TimeoutError: Timeout connecting to server; a plain TCP connection to 172.17.0.3:6379 opens, "
                       "so the TLS handshake got no answer")


@pytest.mark.parametrize(
    ("text", "tls", "cause_id"),
    [
        (CLI_PLAINTEXT_TO_TLS, False, "tls_mismatch"),
        (CLI_SCAN_PLAINTEXT_TO_TLS, False, "tls_mismatch"),
        (PY_PLAINTEXT_TO_TLS, False, "tls_mismatch"),
        (PY_PLAINTEXT_TO_TLS_PUBLISHED, False, "tls_mismatch"),
        (CLI_TLS_TO_PLAINTEXT, True, "tls_mismatch"),
        (PY_TLS_TO_PLAINTEXT, True, "tls_mismatch"),
        (CLI_UNKNOWN_CA, True, "tls_certificate"),
        (PY_UNKNOWN_CA, True, "tls_certificate"),
        (PY_IP_NOT_IN_CERT, True, "tls_certificate"),
        (CLI_BAD_CA_FILE, True, "tls_ca_unreadable"),
        (PY_CA_FILE_NOT_PEM, True, "tls_ca_unreadable"),
        ("CA certificate file /nonexistent/ca.crt cannot be read on the host that runs the module (no such file)",
         True, "tls_ca_unreadable"),
        # A dropped connection says nothing about TLS when the client spoke TLS, or when it is not
        # known how the client spoke (a line in Open WebUI's log).
        (CLI_NO_CLIENT_CERT, True, "valkey_error"),
        (PY_PLAINTEXT_TO_TLS, None, "valkey_error"),
        # A timeout over TLS where not even TCP got through is an ordinary timeout.
        ("TimeoutError: Timeout connecting to server", True, "valkey_timeout"),
    ],
)
def test_classify_valkey_error_names_tls_causes(text, tls, cause_id):
    item = classify_valkey_error(text, "ping", "valkey-cli in 'redis-valkey'", tls=tls)
    assert item["id"] == cause_id
    assert item["transient"] is (cause_id == "valkey_timeout")


def test_tls_mismatch_fix_points_the_right_way():
    plaintext = classify_valkey_error(CLI_PLAINTEXT_TO_TLS, "ping", "t", tls=False)
    assert "valkey_tls: true" in plaintext["fix"]
    assert "dropped the plaintext connection" in plaintext["message"]
    assert "Connection reset by peer" in plaintext["message"]
    over_tls = classify_valkey_error(CLI_TLS_TO_PLAINTEXT, "ping", "t", tls=True)
    assert "valkey_tls: false" in over_tls["fix"]
    assert "TLS handshake got no answer" in over_tls["message"]


def test_a_certificate_failure_says_which_ca_to_give():
    item = classify_valkey_error(CLI_UNKNOWN_CA, "ping", "t", tls=True)
    assert "valkey_tls_ca_cert" in item["fix"]
    assert "system trust store" in item["fix"]


def test_misconf_and_protected_mode_are_not_worth_waiting_for_but_loading_is():
    assert classify_valkey_error(MISCONF, "ping", "t")["transient"] is False
    assert classify_valkey_error(DENIED, "ping", "t")["transient"] is False
    assert classify_valkey_error("LOADING Valkey is loading", "ping", "t")["transient"] is True


# ------------------------------------------------------------------------------------------
# Logs
# ------------------------------------------------------------------------------------------


def test_parse_docker_time_keeps_nanoseconds_and_trimmed_zeros():
    assert parse_docker_time("1970-01-01T00:00:01Z") == 1_000_000_000
    assert parse_docker_time("1970-01-01T00:00:01.5Z") == 1_500_000_000
    assert parse_docker_time("1970-01-01T00:00:01.000000001Z") == 1_000_000_001
    assert parse_docker_time("1970-01-01T01:00:01+01:00") == 1_000_000_000
    assert parse_docker_time("0001-01-01T00:00:00Z") is not None
    assert parse_docker_time("yesterday") is None


def test_docker_since_is_seconds_dot_nanoseconds():
    assert docker_since("2026-11-27T05:35:10.98765432Z").endswith(".987654320")


PROOF = "Using Redis to manage websockets."


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("DEBUG:open_webui.socket.main:Using Redis to manage websockets.",
         {"format": "stdlib", "level": "DEBUG", "message": PROOF}),
        ("2026-11-27 05:35:12.123 | DEBUG    | open_webui.socket.main:<module>:64 - Using Redis to manage websockets.",
         {"format": "loguru", "level": "DEBUG", "message": PROOF}),
        # A JSON formatter: level and message at the top.
        (json.dumps({"ts": "2026-11-27T05:35:12Z", "level": "debug", "msg": PROOF, "caller": "open_webui.socket.main:64"}),
         {"format": "json", "level": "debug", "message": PROOF}),
        # loguru with serialize=True: the formatted line in "text", the record (message, level) nested.
        (json.dumps({"text": "2026-11-27 05:35:12.123 | DEBUG | open_webui.socket.main:<module>:64 - Using Redis to "
                             "manage websockets.\n",
                     "record": {"message": PROOF, "level": {"name": "DEBUG", "no": 10}, "name": "open_webui.socket.main"}}),
         {"format": "json", "level": "DEBUG", "message": PROOF}),
        ("Uvicorn running on http://0.0.0.0:8080", {"format": "plain", "level": None,
                                                    "message": "Uvicorn running on http://0.0.0.0:8080"}),
    ],
    ids=["stdlib", "loguru", "json", "loguru-serialized", "plain"],
)
def test_log_message_understands_each_format(line, expected):
    assert log_message(line) == expected


STARTED = "2026-11-27T05:40:00.5Z"
LOG = (
    # An earlier start of the same container printed the line: it proves nothing now.
    "2026-11-27T05:30:01.000000000Z DEBUG:open_webui.socket.main:Using Redis to manage websockets.\n"
    "2026-11-27T05:40:00.400000000Z INFO:     Shutting down\n"
    "2026-11-27T05:40:01.000000000Z INFO  [open_webui.env] GLOBAL_LOG_LEVEL: DEBUG\n"
    "2026-11-27T05:40:02.000000000Z INFO:     Uvicorn running on http://0.0.0.0:8080 (Press CTRL+C to quit)\n"
)


def test_scan_log_ignores_a_line_from_an_earlier_start():
    scan = scan_log(LOG, STARTED)
    assert scan["found"] is False
    assert scan["older_lines_ignored"] == 2
    assert scan["lines_scanned"] == 2


def test_scan_log_finds_the_line_in_json_format_after_the_start():
    line = json.dumps({"level": "debug", "msg": "Using Redis to manage websockets."})
    scan = scan_log(LOG + f"2026-11-27T05:40:03Z {line}\n", STARTED)
    assert scan["found"] is True
    assert scan["format"] == "json"
    assert "Using Redis" in scan["line"]


def test_scan_log_reports_the_in_memory_fallback_and_valkey_errors_without_secrets():
    text = LOG + (
        "2026-11-27T05:40:03Z ERROR:open_webui.socket.main:Failed to initialize Redis websocket manager: "
        "Error -2 connecting to redis://:pw@valkey:6379/1. Name or service not known.. Falling back to local manager.\n"
        "2026-11-27T05:40:04Z Cannot receive from redis... retrying in 1 secs\n"
    )
    scan = scan_log(text, STARTED, ("pw",))
    assert len(scan["fallback"]) == 1
    assert ":pw@" not in scan["fallback"][0]
    assert scan["valkey_errors"] == ["Cannot receive from redis... retrying in 1 secs"]


# ------------------------------------------------------------------------------------------
# Verdict
# ------------------------------------------------------------------------------------------


def test_required_checks_follow_require():
    assert required_checks(["ping"]) == {
        "ping": True, "open_webui": False, "websocket": False, "valkey_side": False, "log_line": False,
    }
    assert required_checks(["ping", "valkey_side", "websocket"])["open_webui"] is True


def ok(detail: str, required: bool = True) -> dict:
    return check_entry("ok", required, detail)


def failed(*causes: dict, required: bool = True) -> dict:
    return check_entry("failed", required, "failed", causes=list(causes))


def test_summary_on_success_reads_as_evidence():
    checks = {
        "ping": ok("PONG"),
        "open_webui": ok("1/1 running"),
        "websocket": ok("websocket handshake ok"),
        "valkey_side": ok("1/1 subscribed to socketio; 1/1 clients connected; 3 keys under open-webui: in db 1"),
        "log_line": failed(cause("log_line_missing", "log_line", line="x", container="o", started_at="t"),
                           required=False),
    }
    assert failed_required(checks) == []
    assert summary(checks) == (
        "Open WebUI uses Valkey for websockets: PONG; 1/1 subscribed to socketio; 1/1 clients connected; "
        "3 keys under open-webui: in db 1; websocket handshake ok"
    )


def test_summary_only_claims_what_was_required():
    checks = {"ping": ok("PONG"), "valkey_side": ok("whatever", required=False)}
    assert summary(checks) == "Required checks passed: PONG"


def test_a_failing_required_check_names_its_cause_first():
    wrongpass = classify_valkey_error("WRONGPASS invalid username-password pair", "ping", "t")
    checks = {"ping": failed(wrongpass), "websocket": ok("websocket handshake ok")}
    assert failed_required(checks) == ["ping"]
    message = summary(checks)
    assert message.startswith("Open WebUI websockets are not proven to go through Valkey (failed: ping): ")
    assert "WRONGPASS" in message
    assert message.endswith("| ok: websocket handshake ok")


def test_waiting_helps_only_with_transient_causes():
    starting = cause("handshake_failed", "websocket", url="http://127.0.0.1:3000/ws/socket.io", error="refused")
    unset = cause("manager_not_redis", "open_webui", container="o", value="''")
    assert worth_waiting({"websocket": failed(starting)}) is True
    assert worth_waiting({"websocket": failed(starting), "open_webui": failed(unset)}) is False
    assert worth_waiting({"websocket": failed(starting, required=False)}) is False
    assert worth_waiting({"ping": ok("PONG")}) is False


def test_all_causes_puts_required_checks_first_and_drops_repeats():
    a = cause("no_keys", "valkey_side", key_prefix="open-webui", db=1)
    b = cause("log_line_missing", "log_line", line="x", container="o", started_at="t")
    checks = {"log_line": failed(b, required=False), "valkey_side": failed(a, a)}
    assert [c["id"] for c in all_causes(checks)] == ["no_keys", "log_line_missing"]
    assert [c["id"] for c in all_causes(checks, required_only=True)] == ["no_keys"]


def test_every_cause_template_formats():
    values = {
        "container": "c", "status": "exited", "exit_code": 1, "error": "e", "key_prefix": "p", "target": "t",
        "value": "v", "url": "u", "host": "h", "db": 1, "url_db": 2, "started_at": "s", "line": "l",
        "subscribers": 0, "expected": 1, "fix": "f", "addresses": "a", "count": 3, "other_db": 2, "port": 8080,
        "seen": "s", "other": "o", "valkey": "v", "valkey_addresses": "a", "replica": "r", "sid": "s", "bound": 5,
        "workers": "w",
    }
    for cause_id in CAUSES:
        item = cause(cause_id, "ping", **values)
        assert item["message"] and item["fix"]
