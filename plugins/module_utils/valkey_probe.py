# Copyright (c) owui.realtime contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Two ways to ask Valkey the same read-only questions.

ValkeyViaExec runs valkey-cli inside the Valkey container through the Docker API, so it works
when Valkey's port is not published. ValkeyViaRedisPy connects with redis-py to a URL. Both
raise ValkeyError with Valkey's own words when a command fails, and both speak TLS on request.
"""

from __future__ import annotations

import contextlib
import math
import os
import socket
from collections.abc import Callable
from typing import Any

from ansible_collections.owui.realtime.plugins.module_utils.docker_probe import (
    ExecFailed,
)
from ansible_collections.owui.realtime.plugins.module_utils.masking import scrub
from ansible_collections.owui.realtime.plugins.module_utils.optional_library import optional_import
from ansible_collections.owui.realtime.plugins.module_utils.valkey_replies import (
    glob_escape,
    parse_client_list,
    parse_keyspace,
    parse_numsub,
)

redis, REDIS_IMPORT_ERROR = optional_import("redis")


def tls_words(tls: bool, ca_cert: str | None) -> str:
    """How a description names the TLS settings: ``TLS, CA <file>``, ``TLS, system CAs``, or nothing."""
    if not tls:
        return ""
    return f"TLS, CA {ca_cert}" if ca_cert else "TLS, system CAs"


class ValkeyError(Exception):
    """Valkey (or the way to it) answered with an error; str() is safe to show."""


def _exec_missing(program: str, rc: int, output: str) -> bool:
    """Whether the engine (or `timeout`) could not start `program` in the container."""
    named = f'"{program}"' in output or f"'{program}'" in output
    return named and (rc in (126, 127) or "executable file not found" in output or "No such file" in output)


class ValkeyViaExec:
    """valkey-cli in the Valkey container, the password passed as REDISCLI_AUTH.

    With TLS, valkey-cli runs under `timeout`: a TLS client talking to a plaintext Valkey waits
    for the server's hello forever (valkey-cli -t does not cover the handshake).
    """

    CLIS = ("valkey-cli", "redis-cli")
    # coreutils' timeout exits 124 when it stopped the command; busybox's dies of the TERM: 143.
    TIMEOUT_EXITS = (124, 143)

    def __init__(
        self,
        run: Callable[[str, list[str], dict[str, str] | None], tuple[int, str, str]],
        container: str,
        port: int,
        db: int,
        username: str | None = None,
        password: str | None = None,
        tls: bool = False,
        ca_cert: str | None = None,
        timeout: float = 10,
    ) -> None:
        self.run = run
        self.container = container
        self.port = port
        self.db = db
        self.username = username
        self.password = password
        self.tls = tls
        self.ca_cert = ca_cert if tls else None
        self.timeout = max(1, math.ceil(timeout))
        self.cli = self.CLIS[0]
        # Dropped when the image has no `timeout`; a TLS hang then lasts until the Docker API gives up.
        self.with_timeout = tls
        self.answered = False

    def describe(self) -> str:
        details = ", ".join(filter(None, [f"docker exec, port {self.port}", tls_words(self.tls, self.ca_cert)]))
        return f"{self.cli} in container '{self.container}' ({details})"

    def _secrets(self) -> tuple[str, ...]:
        return (self.password,) if self.password else ()

    def argv(self, args: list[str], db: int | None = None) -> list[str]:
        """The command line run in the container (no secret in it)."""
        argv = [self.cli, "--raw", "-e", "-p", str(self.port), "-n", str(self.db if db is None else db)]
        if self.tls:
            argv.append("--tls")
            if self.ca_cert:
                argv += ["--cacert", self.ca_cert]
        if self.username:
            argv += ["--user", self.username]
        argv += args
        if self.with_timeout:
            argv = ["timeout", str(self.timeout), *argv]
        return argv

    def _call(self, args: list[str], db: int | None = None) -> str:
        env = {"REDISCLI_AUTH": self.password} if self.password else None
        while True:
            try:
                rc, out, err = self.run(self.container, self.argv(args, db), env)
            except ExecFailed as exc:
                raise ValkeyError(scrub(str(exc), self._secrets())) from None
            combined = (out + "\n" + err).strip()
            if self.with_timeout and _exec_missing("timeout", rc, combined):
                self.with_timeout = False
                continue
            missing = rc in (126, 127) or "executable file not found" in combined or "no such file or directory" in combined
            if missing and self.cli != self.CLIS[-1]:
                self.cli = self.CLIS[self.CLIS.index(self.cli) + 1]
                continue
            if missing:
                raise ValkeyError(f"no valkey-cli or redis-cli in the container: {scrub(combined, self._secrets())}")
            if self.with_timeout and rc in self.TIMEOUT_EXITS and not combined:
                if self.answered:  # the handshake worked before: Valkey is slow, TLS is not the matter
                    raise ValkeyError(f"{self.cli} timed out after {self.timeout}s (`timeout` stopped it with exit "
                                      f"code {rc})")
                raise ValkeyError(f"{self.cli} --tls got no answer within {self.timeout}s over TLS (port "
                                  f"{self.port}; `timeout` stopped it with exit code {rc})")
            # -e makes an error reply exit 1. A failed AUTH is only reported on stderr before the
            # command runs anyway; Open WebUI's client would have stopped there, so the check does too.
            if rc != 0 or "AUTH failed" in err:
                raise ValkeyError(scrub(combined, self._secrets()) or f"{self.cli} exited with {rc}")
            self.answered = True
            return out

    def ping(self) -> str:
        return self._call(["PING"]).strip()

    def numsub(self, channel: str) -> int:
        return parse_numsub(self._call(["PUBSUB", "NUMSUB", channel])).get(channel, 0)

    def client_list(self) -> list[dict[str, str]]:
        return parse_client_list(self._call(["CLIENT", "LIST"]))

    def keyspace(self) -> dict[int, int]:
        return parse_keyspace(self._call(["INFO", "keyspace"]))

    def count_keys(self, prefix: str, db: int) -> int:
        out = self._call(["--scan", "--pattern", glob_escape(prefix) + ":*", "--count", "1000"], db=db)
        return sum(1 for line in out.splitlines() if line.strip())

    def publish(self, channel: str, message: str) -> int:
        """PUBLISH; the reply is how many subscribers got the message."""
        return int(self._call(["PUBLISH", channel, message]).strip() or 0)


def redis_error_text(exc: Exception) -> str:
    """redis-py strips the error code (WRONGPASS, NOPERM ...) from the message; put it back."""
    code = getattr(exc, "status_code", None)
    text = str(exc)
    if code and not text.startswith(code):
        return f"{code} {text}"
    return f"{type(exc).__name__}: {text}"


class ValkeyViaRedisPy:
    """redis-py connected to valkey_url; explicit user, password and db win over the URL's.

    Whether to speak TLS and with which CA file (on this host; None: the system trust store) is
    decided by the caller (valkey_access), not here. redis-py checks the host name against the
    certificate (ssl_check_hostname stays on).
    """

    def __init__(self, parsed_url: dict[str, Any], display_url: str, db: int, timeout: float,
                 username: str | None = None, password: str | None = None, *,
                 tls: bool, ca_cert: str | None) -> None:
        self.display_url = display_url
        self.db = db
        self.tls = tls
        self.ca_cert = ca_cert if tls else None
        self.timeout = timeout
        self.kwargs: dict[str, Any] = {
            "username": username if username is not None else parsed_url["username"],
            "password": password if password is not None else parsed_url["password"],
            "socket_timeout": timeout,
            "socket_connect_timeout": timeout,
            "decode_responses": True,
            # One attempt per question: the module's own wait loop retries, and redis-py's default
            # retries with backoff would stretch one failed answer to several timeouts.
            "retry": redis.retry.Retry(redis.backoff.NoBackoff(), 0),
        }
        self.kwargs.update(host=parsed_url["host"], port=parsed_url["port"], ssl=self.tls)
        if self.ca_cert:
            self.kwargs["ssl_ca_certs"] = self.ca_cert
        self._clients: dict[int, Any] = {}

    def describe(self) -> str:
        tls = tls_words(self.tls, self.ca_cert)
        return f"redis-py to {self.display_url}" + (f" ({tls})" if tls else "")

    def _secrets(self) -> tuple[str, ...]:
        return (self.kwargs["password"],) if self.kwargs.get("password") else ()

    def _client(self, db: int | None = None) -> Any:
        db = self.db if db is None else db
        if db not in self._clients:
            if self.ca_cert and not (os.path.isfile(self.ca_cert) and os.access(self.ca_cert, os.R_OK)):
                reason = "not a file" if os.path.exists(self.ca_cert) else "no such file"
                raise ValkeyError(f"CA certificate file {self.ca_cert} cannot be read on the host that runs "
                                  f"the module ({reason})")
            self._clients[db] = redis.Redis(db=db, **self.kwargs)
        return self._clients[db]

    def _tcp_opens(self) -> bool:
        try:
            with socket.create_connection((self.kwargs["host"], self.kwargs["port"]), timeout=self.timeout):
                return True
        except OSError:
            return False

    def _do(self, func: Callable[[], Any]) -> Any:
        try:
            return func()
        except redis.exceptions.TimeoutError as exc:
            text = redis_error_text(exc)
            # A plaintext Valkey never answers the TLS hello; tell that from a port nobody answers on.
            if self.tls and "connecting" in text and self._tcp_opens():
                text += (f"; a plain TCP connection to {self.kwargs['host']}:{self.kwargs['port']} opens, "
                         "so the TLS handshake got no answer")
            raise ValkeyError(scrub(text, self._secrets())) from None
        except redis.exceptions.RedisError as exc:
            raise ValkeyError(scrub(redis_error_text(exc), self._secrets())) from None
        except OSError as exc:
            raise ValkeyError(scrub(f"{type(exc).__name__}: {exc}", self._secrets())) from None

    def ping(self) -> str:
        # redis-py turns +PONG into True; report what the server said.
        return "PONG" if self._do(lambda: self._client().ping()) else "no PONG"

    def numsub(self, channel: str) -> int:
        pairs = self._do(lambda: self._client().pubsub_numsub(channel))
        return int(dict(pairs).get(channel, 0))

    def client_list(self) -> list[dict[str, str]]:
        return list(self._do(lambda: self._client().client_list()))

    def keyspace(self) -> dict[int, int]:
        info = self._do(lambda: self._client().info("keyspace"))
        return {int(name[2:]): int(value.get("keys", 0)) for name, value in info.items() if name.startswith("db")}

    def count_keys(self, prefix: str, db: int) -> int:
        pattern = glob_escape(prefix) + ":*"
        return self._do(lambda: sum(1 for _key in self._client(db).scan_iter(match=pattern, count=1000)))

    def publish(self, channel: str, message: str) -> int:
        return int(self._do(lambda: self._client().publish(channel, message)))

    def close(self) -> None:
        for client in self._clients.values():
            with contextlib.suppress(Exception):  # closing is best effort
                client.close()
