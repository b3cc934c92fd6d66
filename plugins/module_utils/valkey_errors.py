# Copyright (c) owui.realtime contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Naming the cause of an error seen while talking to Valkey, from valkey-cli's, redis-py's,
OpenSSL's or the resolver's words."""

from __future__ import annotations

import re
from typing import Any

from ansible_collections.owui.realtime.plugins.module_utils.causes import cause

# What the probes print when TLS is half set up. Plaintext against a TLS-only Valkey: the server
# drops the connection at the first command (valkey-cli "I/O error ... Connection reset by peer",
# redis-py "Error while reading from ... Connection reset by peer", or "Connection closed by
# server" through a port Docker publishes). The same words say nothing about TLS when the client
# spoke TLS, so those rules hold only for a plaintext client. TLS against a plaintext Valkey: the
# server waits for a command line and never answers the TLS hello; the probes (valkey_probe) turn
# that hang into their "... got no answer ..." texts.
TLS_REFUSED_PLAINTEXT = {
    "seen": "Valkey dropped the plaintext connection at once, as a TLS-only Valkey does",
    "fix": "Valkey serves TLS only there (port 0, tls-port): set valkey_tls: true and "
           "valkey_tls_ca_cert, or use rediss:// in valkey_url. Open WebUI needs "
           "rediss://...?ssl_ca_certs=<CA file in its container> in WEBSOCKET_REDIS_URL as well.",
}
TLS_NOT_SERVED = {
    "seen": "the TLS handshake got no answer, as from a Valkey that speaks plaintext on that port",
    "fix": "Set valkey_tls: false (redis:// in valkey_url), or point the check at Valkey's tls-port "
           "(valkey_port); if Valkey should serve TLS, set tls-port, tls-cert-file and tls-key-file "
           "in valkey.conf, and give Open WebUI a rediss:// URL.",
}

# Valkey's error codes are upper-case words at the start of a reply; the phrases are what
# valkey-cli, redis-py, OpenSSL and the resolver say. Order matters: valkey-cli prints "AUTH
# failed: WRONGPASS ..." and then the command's own "NOAUTH ...", and the first is the cause.
# The last field says for which client the rule holds: None any, False plaintext, True TLS.
_ERROR_RULES: tuple[tuple[re.Pattern[str], str, bool | None], ...] = tuple(
    (re.compile(pattern, flags), cause_id, tls)
    for pattern, flags, cause_id, tls in (
        # What ValkeyViaExec says when the image has neither CLI.
        (r"no valkey-cli or redis-cli in the container", 0, "no_cli", None),
        (r"\bDENIED\b|protected mode", 0, "protected_mode", None),
        (r"\bWRONGPASS\b|invalid username-password pair|invalid password", re.IGNORECASE, "wrongpass", None),
        (r"called without any password configured", re.IGNORECASE, "auth_not_configured", None),
        (r"\bNOAUTH\b|authentication required", re.IGNORECASE, "noauth", None),
        (r"\bNOPERM\b|no permissions|Redis denied (subscribing|publishing)", re.IGNORECASE, "noperm", None),
        (r"\bMISCONF\b", 0, "misconf", None),
        (r"\bLOADING\b", 0, "loading", None),
        (r"\bREADONLY\b", 0, "readonly", None),
        (r"max number of clients", re.IGNORECASE, "max_clients", None),
        (r"Invalid CA Certificate File|NO_CERTIFICATE_OR_CRL_FOUND|CA certificate file .* cannot be read",
         re.IGNORECASE, "tls_ca_unreadable", None),
        (r"certificate verify failed", re.IGNORECASE, "tls_certificate", None),
        (r"\bI/O error\b|Connection reset by peer|Connection closed by server", re.IGNORECASE, "tls_mismatch", False),
        (r"got no answer within \d+s over TLS|TLS handshake got no answer", re.IGNORECASE, "tls_mismatch", True),
        (
            (r"name or service not known|temporary failure in name resolution|nodename nor servname"
             r"|no address associated with hostname|could not resolve"),
            re.IGNORECASE,
            "name_resolution",
            None,
        ),
        (r"connection refused", re.IGNORECASE, "connection_refused", None),
        (r"timed out|timeout", re.IGNORECASE, "valkey_timeout", None),
    )
)


def classify_valkey_error(text: str, check: str, target: str, key_prefix: str = "open-webui",
                          tls: bool | None = None) -> dict[str, Any]:
    """Name the likely cause of an error seen when talking to Valkey. `tls` says whether the
    client used TLS (None: not known, as for a line in Open WebUI's log)."""
    values = {"error": " ".join(text.split()), "target": target, "key_prefix": key_prefix}
    for pattern, cause_id, when in _ERROR_RULES:
        if when is not None and when is not tls:
            continue
        if pattern.search(text):
            if cause_id == "tls_mismatch":
                values.update(TLS_NOT_SERVED if tls else TLS_REFUSED_PLAINTEXT)
            return cause(cause_id, check, **values)
    return cause("valkey_error", check, **values)
