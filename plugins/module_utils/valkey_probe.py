# Copyright (c) owui.realtime contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Two ways to ask Valkey the same read-only questions.

ValkeyViaExec runs valkey-cli inside the Valkey container through the Docker API, so it works
when Valkey's port is not published. ValkeyViaRedisPy connects with redis-py to a URL. Both
raise ValkeyError with Valkey's own words when a command fails.
"""

from __future__ import annotations

import contextlib
import traceback
from collections.abc import Callable
from typing import Any

from ansible_collections.owui.realtime.plugins.module_utils.docker_probe import (
    ExecFailed,
)
from ansible_collections.owui.realtime.plugins.module_utils.websocket_check import (
    glob_escape,
    parse_client_list,
    parse_keyspace,
    parse_numsub,
    scrub,
)

try:
    import redis
except ImportError:
    redis = None
    REDIS_IMPORT_ERROR: str | None = traceback.format_exc()
else:
    REDIS_IMPORT_ERROR = None


class ValkeyError(Exception):
    """Valkey (or the way to it) answered with an error; str() is safe to show."""


class ValkeyViaExec:
    """valkey-cli in the Valkey container, the password passed as REDISCLI_AUTH."""

    CLIS = ("valkey-cli", "redis-cli")

    def __init__(
        self,
        run: Callable[[str, list[str], dict[str, str] | None], tuple[int, str, str]],
        container: str,
        port: int,
        db: int,
        username: str | None = None,
        password: str | None = None,
    ) -> None:
        self.run = run
        self.container = container
        self.port = port
        self.db = db
        self.username = username
        self.password = password
        self.cli = self.CLIS[0]

    def describe(self) -> str:
        return f"{self.cli} in container '{self.container}' (docker exec, port {self.port})"

    def _secrets(self) -> tuple[str, ...]:
        return (self.password,) if self.password else ()

    def _call(self, args: list[str], db: int | None = None) -> str:
        env = {"REDISCLI_AUTH": self.password} if self.password else None
        for attempt in range(len(self.CLIS)):
            argv = [self.cli, "--raw", "-e", "-p", str(self.port), "-n", str(self.db if db is None else db)]
            if self.username:
                argv += ["--user", self.username]
            try:
                rc, out, err = self.run(self.container, argv + args, env)
            except ExecFailed as exc:
                raise ValkeyError(scrub(str(exc), self._secrets())) from None
            combined = (out + "\n" + err).strip()
            missing = rc in (126, 127) or "executable file not found" in combined or "no such file or directory" in combined
            if missing and attempt + 1 < len(self.CLIS):
                self.cli = self.CLIS[attempt + 1]
                continue
            if missing:
                raise ValkeyError(f"no valkey-cli or redis-cli in the container: {scrub(combined, self._secrets())}")
            # -e makes an error reply exit 1. A failed AUTH is only reported on stderr before the
            # command runs anyway; Open WebUI's client would have stopped there, so the check does too.
            if rc != 0 or "AUTH failed" in err:
                raise ValkeyError(scrub(combined, self._secrets()) or f"{self.cli} exited with {rc}")
            return out
        raise ValkeyError("unreachable")

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


def redis_error_text(exc: Exception) -> str:
    """redis-py strips the error code (WRONGPASS, NOPERM ...) from the message; put it back."""
    code = getattr(exc, "status_code", None)
    text = str(exc)
    if code and not text.startswith(code):
        return f"{code} {text}"
    return f"{type(exc).__name__}: {text}"


class ValkeyViaRedisPy:
    """redis-py connected to valkey_url; explicit user, password and db win over the URL's."""

    def __init__(self, parsed_url: dict[str, Any], display_url: str, db: int, timeout: float,
                 username: str | None = None, password: str | None = None) -> None:
        self.display_url = display_url
        self.db = db
        self.kwargs: dict[str, Any] = {
            "username": username if username is not None else parsed_url["username"],
            "password": password if password is not None else parsed_url["password"],
            "socket_timeout": timeout,
            "socket_connect_timeout": timeout,
            "decode_responses": True,
        }
        self.kwargs.update(host=parsed_url["host"], port=parsed_url["port"], ssl=parsed_url["tls"])
        self._clients: dict[int, Any] = {}

    def describe(self) -> str:
        return f"redis-py to {self.display_url}"

    def _secrets(self) -> tuple[str, ...]:
        return (self.kwargs["password"],) if self.kwargs.get("password") else ()

    def _client(self, db: int | None = None) -> Any:
        db = self.db if db is None else db
        if db not in self._clients:
            self._clients[db] = redis.Redis(db=db, **self.kwargs)
        return self._clients[db]

    def _do(self, func: Callable[[], Any]) -> Any:
        try:
            return func()
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
        return self._do(lambda: sum(1 for _ in self._client(db).scan_iter(match=pattern, count=1000)))

    def close(self) -> None:
        for client in self._clients.values():
            with contextlib.suppress(Exception):  # closing is best effort
                client.close()
