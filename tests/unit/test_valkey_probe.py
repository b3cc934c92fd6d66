"""How the exec probe reads valkey-cli. The input is what `docker exec ... valkey-cli` returned
(exit code, stdout, stderr, recorded from Valkey 8.1.1); the probe's reading of it is under test."""

from __future__ import annotations

import pytest

from ansible_collections.owui.realtime.plugins.module_utils.docker_probe import (
    ExecFailed,
)
from ansible_collections.owui.realtime.plugins.module_utils.valkey_probe import (
    ValkeyError,
    ValkeyViaExec,
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
