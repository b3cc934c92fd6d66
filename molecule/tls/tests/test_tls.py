"""With TLS on, Valkey speaks only TLS, proves its identity with the private CA's certificate,
and Open WebUI still manages its websockets through it."""

from __future__ import annotations

import os
import stat

testinfra_hosts = ["molecule-tls"]


def _tls_dir(hostvars):
    return f"/etc/owui-realtime/{hostvars['valkey_container_name']}/tls"


def _with_ca(hostvars):
    return {_tls_dir(hostvars): {"bind": "/tls", "mode": "ro"}}


def test_valkey_closes_the_plaintext_port(valkey):
    _exit_code, conf = valkey.exec_run(["cat", "/etc/valkey/valkey.conf"])
    lines = conf.decode().splitlines()
    assert "port 0" in lines
    assert "tls-port 6379" in lines


def test_a_plaintext_client_is_refused(neighbour, hostvars, secrets):
    plain = neighbour("-h", "redis", "--user", "open-webui", "PING", env={"REDISCLI_AUTH": secrets["valkey_open_webui"]})
    assert "PONG" not in plain, plain
    # The same client and credentials over TLS get in, so the refusal is about plaintext.
    tls = neighbour("-h", "redis", "--tls", "--cacert", "/tls/ca.crt", "--user", "open-webui", "PING",
                    env={"REDISCLI_AUTH": secrets["valkey_open_webui"]}, volumes=_with_ca(hostvars))
    assert tls == "PONG"


def test_tls_clients_must_still_log_in(neighbour, hostvars):
    out = neighbour("-h", "redis", "--tls", "--cacert", "/tls/ca.crt", "PING", volumes=_with_ca(hostvars))
    assert "NOAUTH" in out, out


def test_valkeys_certificate_is_verified_not_just_accepted(neighbour, hostvars, secrets):
    # Without the private CA the client has only the system trust store, which does not know Valkey's certificate.
    out = neighbour("-h", "redis", "--tls", "--user", "open-webui", "PING", env={"REDISCLI_AUTH": secrets["valkey_open_webui"]})
    assert "PONG" not in out
    assert "certificate" in out.lower(), out


def test_the_private_key_is_readable_only_by_valkeys_user(host, hostvars):
    key = os.stat(f"{_tls_dir(hostvars)}/server.key")
    assert stat.S_IMODE(key.st_mode) == 0o600
    assert key.st_uid == 999
    ca_key = os.stat(f"{hostvars['valkey_tls_ca_dir']}/ca.key")
    assert stat.S_IMODE(ca_key.st_mode) == 0o600


def test_open_webui_verifies_valkey_with_the_private_ca(open_webui):
    env = dict(item.split("=", 1) for item in open_webui.attrs["Config"]["Env"])
    assert env["WEBSOCKET_REDIS_URL"].startswith("rediss://open-webui:")
    assert env["WEBSOCKET_REDIS_URL"].endswith("@redis:6379/1?ssl_ca_certs=%2Fetc%2Fowui-realtime%2Fvalkey-ca.crt")
    mounts = {m["Destination"]: m for m in open_webui.attrs["Mounts"]}
    assert mounts["/etc/owui-realtime/valkey-ca.crt"]["RW"] is False


def test_open_webui_is_connected_over_tls(valkey, secrets):
    # Plaintext is closed, so every client Valkey lists came in over TLS; Open WebUI's user must be among them.
    _exit_code, out = valkey.exec_run(["valkey-cli", "--tls", "--cacert", "/etc/valkey/tls/ca.crt", "--no-auth-warning",
                                       "CLIENT", "LIST"], environment={"REDISCLI_AUTH": secrets["valkey_admin"]})
    users = {field.split("=", 1)[1] for line in out.decode().splitlines() for field in line.split() if field.startswith("user=")}
    assert "open-webui" in users, out.decode()


def test_websocket_check_passes_over_tls(websocket_check):
    result = websocket_check(valkey_tls=True, valkey_tls_ca_cert="/etc/valkey/tls/ca.crt")
    for name in ("ping", "valkey_side", "websocket"):
        assert result["checks"][name]["status"] == "ok", result["checks"][name]


def test_websocket_check_fails_when_told_to_speak_plaintext(websocket_check):
    result = websocket_check(valkey_tls=False, wait_timeout=0)
    assert result["checks"]["ping"]["status"] == "failed", result["checks"]["ping"]
    assert {cause["id"] for cause in result["causes"]} == {"tls_mismatch"}, result["causes"]


def test_verify_runs_on_its_own_with_tls(verify_playbook):
    # The CA certificate comes from the valkey role's own files, not from a fact a deploy left behind.
    code, output = verify_playbook()
    assert code == 0, output[-3000:]
    assert "Open WebUI uses Valkey for websockets" in output
