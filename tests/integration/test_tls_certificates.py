"""The certificate the valkey role issues from its private CA: kept while valid, issued again
before it expires, with the names clients use."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from cryptography import x509
from playbook import run_playbook, unique_prefix

pytestmark = pytest.mark.integration

PLAYBOOK = Path(__file__).parent / "playbooks" / "valkey_tls_files.yml"


@pytest.fixture
def tls_vars(tmp_path):
    prefix = unique_prefix("tls")
    yield {
        "valkey_container_name": f"{prefix}-valkey",
        "valkey_tls_enabled": True,
        "valkey_credentials_dir": str(tmp_path / "credentials"),
        "valkey_tls_ca_dir": str(tmp_path / "ca"),
    }
    shutil.rmtree(f"/etc/owui-realtime/{prefix}-valkey", ignore_errors=True)


def _issue(tls_vars: dict, **extra) -> x509.Certificate:
    run = run_playbook(PLAYBOOK, {**tls_vars, **extra})
    assert run.returncode == 0, run.output[-4000:]
    installed = Path(f"/etc/owui-realtime/{tls_vars['valkey_container_name']}/tls/server.crt")
    return x509.load_pem_x509_certificate(installed.read_bytes())


def test_the_certificate_names_what_clients_connect_to(tls_vars):
    cert = _issue(tls_vars, valkey_tls_subject_alt_names=["DNS:valkey.example.org"])
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert set(names.get_values_for_type(x509.DNSName)) == {
        tls_vars["valkey_container_name"], "redis", "localhost", "valkey.example.org"}
    assert [str(ip) for ip in names.get_values_for_type(x509.IPAddress)] == ["127.0.0.1"]
    ca = x509.load_pem_x509_certificate((Path(tls_vars["valkey_tls_ca_dir"]) / "ca.crt").read_bytes())
    cert.verify_directly_issued_by(ca)


def test_a_certificate_is_kept_while_valid_and_issued_again_before_it_expires(tls_vars):
    short = _issue(tls_vars, valkey_tls_valid_days=40, valkey_tls_renew_days=30)
    kept = _issue(tls_vars, valkey_tls_valid_days=40, valkey_tls_renew_days=30)
    assert kept.serial_number == short.serial_number, "a valid certificate was issued again"
    # It expires in 40 days, inside a 45-day renewal window: the next run issues a new one, same CA.
    renewed = _issue(tls_vars, valkey_tls_valid_days=825, valkey_tls_renew_days=45)
    assert renewed.serial_number != short.serial_number, "a certificate close to expiry was kept"
    assert renewed.issuer == short.issuer
    assert _issue(tls_vars, valkey_tls_valid_days=825, valkey_tls_renew_days=45).serial_number == renewed.serial_number
