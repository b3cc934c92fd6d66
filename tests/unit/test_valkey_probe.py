"""How the exec probe reads valkey-cli. The input is what `docker exec ... valkey-cli` returned
(exit code, stdout, stderr, recorded from Valkey 8.1.1); the probe's reading of it is under test."""

from __future__ import annotations

import pytest

from ansible_collections.owui.realtime.plugins.module_utils.docker_probe import (
    ExecFailed,
)
from ansible_collections.owui.realtime.plugins.module_utils.redis_url import parse_redis_url
from ansible_collections.owui.realtime.plugins.module_utils.valkey_errors import classify_valkey_error
from ansible_collections.owui.realtime.plugins.module_utils.valkey_probe import (
    ValkeyError,
    ValkeyViaExec,
    ValkeyViaRedisPy,
    redis_error_text,
)


class Recorded:
    """Answers exec calls from a list of recorded (rc, stdout, stderr), remembering the calls."""

    def __init__(self, *answers):
        self.answers = list(answers)
        self.calls = []

    def __call__(self, container, argv, env):
        self.calls.append({"container": container, "argv": argv, "env": env})
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


def test_password_goes_to_the_environment_never_to_argv():
    run = Recorded((0, "PONG\n", ""))
    probe = ValkeyViaExec(run, "redis-valkey", 6379, 1, username="open-webui", password="s3cret")
    assert probe.ping() == "PONG"
    (call,) = run.calls
    assert call["env"] == {"REDISCLI_AUTH": "s3cret"}
    assert "s3cret" not in " ".join(call["argv"])
    assert call["argv"] == ["valkey-cli", "--raw", "-e", "-p", "6379", "-n", "1", "--user", "open-webui", "PING"]


def test_no_password_no_environment():
    run = Recorded((0, "PONG\n", ""))
    ValkeyViaExec(run, "redis-valkey", 6379, 0).ping()
    assert run.calls[0]["env"] is None


def test_wrong_password_is_an_error_with_valkeys_words_and_no_secret():
    run = Recorded((1, "NOAUTH Authentication required.\n",
                    "AUTH failed: WRONGPASS invalid username-password pair or user is disabled.\n"))
    probe = ValkeyViaExec(run, "redis-valkey", 6379, 1, password="wrong-one")
    with pytest.raises(ValkeyError) as err:
        probe.ping()
    assert "WRONGPASS" in str(err.value)
    assert "wrong-one" not in str(err.value)


def test_failed_auth_counts_even_when_the_command_then_succeeds():
    # Valkey without a password accepts PING after AUTH failed; Open WebUI's client would not.
    run = Recorded((0, "PONG\n", ("AUTH failed: ERR AUTH <password> called without any password configured "
                                  "for the default user. Are you sure your configuration is correct?\n")))
    with pytest.raises(ValkeyError, match="called without any password configured"):
        ValkeyViaExec(run, "redis-valkey", 6379, 1, password="pw").ping()


def test_falls_back_to_redis_cli_when_valkey_cli_is_missing():
    run = Recorded(
        (126, ("OCI runtime exec failed: exec failed: unable to start container process: exec: \"valkey-cli\": "
               "executable file not found in $PATH: unknown\r\n"), ""),
        (0, "PONG\n", ""),
    )
    probe = ValkeyViaExec(run, "redis", 6379, 1)
    assert probe.ping() == "PONG"
    assert run.calls[1]["argv"][0] == "redis-cli"
    assert "redis-cli" in probe.describe()


def test_an_image_without_either_cli_is_named_no_cli():
    not_found = (127, "", "OCI runtime exec failed: exec failed: unable to start container process: exec: \"{0}\": "
                          "executable file not found in $PATH: unknown\r\n")
    run = Recorded(tuple(part.format("valkey-cli") if isinstance(part, str) else part for part in not_found),
                   tuple(part.format("redis-cli") if isinstance(part, str) else part for part in not_found))
    probe = ValkeyViaExec(run, "some-redis", 6379, 1)
    with pytest.raises(ValkeyError) as err:
        probe.ping()
    item = classify_valkey_error(str(err.value), "ping", probe.describe())
    assert item["id"] == "no_cli"
    assert item["message"].startswith("Neither valkey-cli nor redis-cli can be run (redis-cli in container 'some-redis'")
    assert "valkey_url" in item["fix"]


def test_a_stopped_container_becomes_a_valkey_error():
    run = Recorded(ExecFailed("409 Client Error: Conflict (\"Container 0f3c is not running\")"))
    with pytest.raises(ValkeyError, match="is not running"):
        ValkeyViaExec(run, "redis-valkey", 6379, 1).ping()


def test_reads_numsub_client_list_keyspace_and_key_count():
    run = Recorded(
        (0, "socketio\n1\n", ""),
        (0, "id=3 addr=172.18.0.3:42118 laddr=172.18.0.2:6379 fd=8 name= db=1 cmd=subscribe\n", ""),
        (0, "# Keyspace\r\ndb1:keys=3,expires=1,avg_ttl=0\r\n", ""),
        (0, "open-webui:session_pool\nopen-webui:usage_pool\n", ""),
    )
    probe = ValkeyViaExec(run, "redis-valkey", 6379, 1)
    assert probe.numsub("socketio") == 1
    assert probe.client_list()[0]["addr"] == "172.18.0.3:42118"
    assert probe.keyspace() == {1: 3}
    assert probe.count_keys("open-webui", 4) == 2
    assert run.calls[3]["argv"][-5:] == ["--scan", "--pattern", "open-webui:*", "--count", "1000"]
    assert run.calls[3]["argv"][5:7] == ["-n", "4"]


def test_redis_error_text_puts_the_code_back():
    from redis.exceptions import AuthenticationError, ConnectionError

    wrongpass = AuthenticationError("invalid username-password pair or user is disabled.", status_code="WRONGPASS")
    assert redis_error_text(wrongpass) == "WRONGPASS invalid username-password pair or user is disabled."
    refused = ConnectionError("Error 111 connecting to 127.0.0.1:6390. Connection refused.")
    assert redis_error_text(refused) == "ConnectionError: Error 111 connecting to 127.0.0.1:6390. Connection refused."


# ------------------------------------------------------------------------------------------
# TLS
# ------------------------------------------------------------------------------------------

MISSING_TIMEOUT = ("OCI runtime exec failed: exec failed: unable to start container process: exec: \"timeout\": "
                   "executable file not found in $PATH: unknown\r\n")


def test_tls_adds_tls_and_cacert_and_runs_under_timeout():
    run = Recorded((0, "PONG\n", ""))
    probe = ValkeyViaExec(run, "redis-valkey", 6379, 1, username="open-webui", password="s3cret",
                          tls=True, ca_cert="/etc/valkey/tls/ca.crt", timeout=7.5)
    assert probe.ping() == "PONG"
    (call,) = run.calls
    assert call["argv"] == ["timeout", "8", "valkey-cli", "--raw", "-e", "-p", "6379", "-n", "1", "--tls",
                            "--cacert", "/etc/valkey/tls/ca.crt", "--user", "open-webui", "PING"]
    assert call["env"] == {"REDISCLI_AUTH": "s3cret"}
    assert probe.describe() == "valkey-cli in container 'redis-valkey' (docker exec, port 6379, TLS, CA /etc/valkey/tls/ca.crt)"


def test_tls_without_ca_uses_the_system_store():
    run = Recorded((0, "PONG\n", ""))
    probe = ValkeyViaExec(run, "redis-valkey", 6379, 1, tls=True)
    probe.ping()
    assert run.calls[0]["argv"][2:] == ["valkey-cli", "--raw", "-e", "-p", "6379", "-n", "1", "--tls", "PING"]
    assert "--cacert" not in run.calls[0]["argv"]
    assert probe.describe().endswith("(docker exec, port 6379, TLS, system CAs)")


def test_plaintext_has_neither_tls_nor_timeout_even_with_a_ca():
    run = Recorded((0, "PONG\n", ""))
    probe = ValkeyViaExec(run, "redis-valkey", 6379, 1, tls=False, ca_cert="/etc/valkey/tls/ca.crt")
    probe.ping()
    assert run.calls[0]["argv"] == ["valkey-cli", "--raw", "-e", "-p", "6379", "-n", "1", "PING"]
    assert probe.describe() == "valkey-cli in container 'redis-valkey' (docker exec, port 6379)"


def test_an_image_without_timeout_runs_the_cli_bare():
    run = Recorded((126, MISSING_TIMEOUT, ""), (0, "PONG\n", ""), (0, "socketio\n1\n", ""))
    probe = ValkeyViaExec(run, "redis-valkey", 6379, 1, tls=True)
    assert probe.ping() == "PONG"
    assert run.calls[1]["argv"][:2] == ["valkey-cli", "--raw"]
    assert probe.numsub("socketio") == 1
    assert run.calls[2]["argv"][0] == "valkey-cli"


def test_timeout_without_valkey_cli_falls_back_to_redis_cli():
    run = Recorded((127, "", "timeout: failed to run command 'valkey-cli': No such file or directory\n"),
                   (0, "PONG\n", ""))
    probe = ValkeyViaExec(run, "redis", 6379, 1, tls=True)
    assert probe.ping() == "PONG"
    assert run.calls[1]["argv"][:3] == ["timeout", "10", "redis-cli"]


@pytest.mark.parametrize("rc", [124, 143], ids=["coreutils-timeout", "busybox-timeout"])
def test_a_tls_hang_stopped_by_timeout_is_named(rc):
    # valkey-cli --tls against a plaintext Valkey: no output until `timeout` stops it. coreutils'
    # timeout (Debian images) exits 124; busybox's (Alpine images, such as valkey:8-alpine) lets the
    # TERM kill it: 143.
    run = Recorded((rc, "", ""))
    with pytest.raises(ValkeyError, match=rf"got no answer within 10s over TLS .*exit code {rc}"):
        ValkeyViaExec(run, "redis-valkey", 6379, 1, tls=True).ping()
    assert classify_valkey_error(f"valkey-cli --tls got no answer within 10s over TLS (port 6379; `timeout` stopped "
                                 f"it with exit code {rc})", "ping", "t", tls=True)["id"] == "tls_mismatch"


def test_a_hang_after_tls_worked_is_a_plain_timeout():
    run = Recorded((0, "PONG\n", ""), (124, "", ""))
    probe = ValkeyViaExec(run, "redis-valkey", 6379, 1, tls=True)
    probe.ping()
    with pytest.raises(ValkeyError) as err:
        probe.count_keys("open-webui", 1)
    assert str(err.value) == "valkey-cli timed out after 10s (`timeout` stopped it with exit code 124)"
    assert classify_valkey_error(str(err.value), "valkey_side", "t", tls=True)["id"] == "valkey_timeout"


@pytest.mark.parametrize(
    ("answer", "said"),
    [
        # plaintext valkey-cli against a TLS-only Valkey
        ((1, "", "\nI/O error\n\nI/O error\nError: Connection reset by peer\n"), "Connection reset by peer"),
        # --tls without --cacert, the certificate from a private CA
        ((1, "", "Could not connect to Valkey at 127.0.0.1:6379: SSL_connect failed: certificate verify failed\n"),
         "certificate verify failed"),
        # --cacert naming no readable certificate
        ((1, "", "Could not negotiate a TLS connection: Invalid CA Certificate File/Directory\n"
                 "Could not negotiate a TLS connection: Invalid CA Certificate File/Directory\n"),
         "Invalid CA Certificate File/Directory"),
    ],
)
def test_tls_failures_are_errors_with_valkey_clis_words(answer, said):
    run = Recorded(answer)
    with pytest.raises(ValkeyError, match=said):
        ValkeyViaExec(run, "redis-valkey", 6379, 1, password="pw", tls=True).ping()


def test_redis_py_speaks_tls_with_the_ca_file_it_is_given():
    parsed = parse_redis_url("rediss://open-webui:pw@valkey.internal:6380/1?ssl_ca_certs=/etc/ssl/valkey-ca.crt")
    probe = ValkeyViaRedisPy(parsed, "rediss://open-webui:********@valkey.internal:6380/1", 1, 5,
                             tls=True, ca_cert="/etc/ssl/valkey-ca.crt")
    assert probe.tls is True
    assert probe.kwargs["ssl"] is True
    assert probe.kwargs["ssl_ca_certs"] == "/etc/ssl/valkey-ca.crt"
    assert "ssl_check_hostname" not in probe.kwargs  # redis-py's default: on
    assert probe.describe().endswith("(TLS, CA /etc/ssl/valkey-ca.crt)")


def test_redis_py_takes_the_tls_choice_as_given_not_from_the_url():
    # The choice is valkey_access's (tested with the runner); the probe does not second-guess it.
    system_store = ValkeyViaRedisPy(parse_redis_url("rediss://valkey.internal:6379/1?ssl_ca_certs=/url/ca.crt"),
                                    "rediss://valkey.internal:6379/1", 1, 5, tls=True, ca_cert=None)
    assert system_store.kwargs["ssl"] is True
    assert "ssl_ca_certs" not in system_store.kwargs
    assert system_store.describe().endswith("(TLS, system CAs)")
    plain = ValkeyViaRedisPy(parse_redis_url("rediss://valkey.internal:6379/1?ssl_ca_certs=/url/ca.crt"),
                             "rediss://valkey.internal:6379/1", 1, 5, tls=False, ca_cert="/given/ca.crt")
    assert plain.kwargs["ssl"] is False
    assert "ssl_ca_certs" not in plain.kwargs
    assert plain.describe() == "redis-py to rediss://valkey.internal:6379/1"


def test_redis_py_refuses_a_ca_file_it_cannot_read_before_connecting(tmp_path):
    parsed = parse_redis_url("rediss://valkey.internal:6380/1")
    missing = ValkeyViaRedisPy(parsed, "rediss://valkey.internal:6380/1", 1, 5, tls=True, ca_cert=str(tmp_path / "ca.crt"))
    with pytest.raises(ValkeyError, match=r"ca\.crt cannot be read on the host that runs the module \(no such file\)"):
        missing.ping()
    directory = ValkeyViaRedisPy(parsed, "rediss://valkey.internal:6380/1", 1, 5, tls=True, ca_cert=str(tmp_path))
    with pytest.raises(ValkeyError, match=r"\(not a file\)"):
        directory.ping()
