# Copyright (c) owui.realtime contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A Socket.IO client that stays connected to one Open WebUI replica and notes when each
delivery-check event reaches it, for the delivery check."""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from typing import Any

from ansible_collections.owui.realtime.plugins.module_utils.socketio_probe import (
    SOCKETIO_PATH,
    _Collect,
    socketio,
)


class ListenerError(Exception):
    """The client could not connect; str() has engine.io's own words when it said any."""


class Listener:
    """Connected over the websocket transport only. `sid` is the namespace sid ('/'), the one
    Socket.IO rooms are keyed by - not the engine.io sid the client's `sid` attribute holds."""

    def __init__(self, url: str, event: str, timeout: float) -> None:
        self._arrived: dict[str, float] = {}
        self._changed = threading.Condition()
        collect = _Collect()
        self._logger = logging.getLogger(f"owui.realtime.delivery.{id(collect)}")
        self._logger.propagate = False
        self._logger.setLevel(logging.INFO)
        self._logger.addHandler(collect)
        self._client = socketio.Client(reconnection=False, logger=self._logger, engineio_logger=self._logger)
        self._client.on(event, self._on_event)
        try:
            self._client.connect(url, transports=["websocket"], socketio_path=SOCKETIO_PATH,
                                 wait_timeout=max(1, int(timeout)))
            self.sid = self._client.get_sid("/")
        except Exception as exc:
            said = [line for line in collect.lines if line and "Attempting" not in line][-3:]
            error = str(exc) or type(exc).__name__
            if said:
                error += " (" + "; ".join(said) + ")"
            self.close()
            raise ListenerError(error) from None
        if not self.sid:
            self.close()
            raise ListenerError("connected, but the server gave no sid for namespace '/'")

    def _on_event(self, data: Any = None, *_more: Any) -> None:
        nonce = data.get("nonce") if isinstance(data, dict) else None
        if isinstance(nonce, str):
            with self._changed:
                self._arrived.setdefault(nonce, time.monotonic())
                self._changed.notify_all()

    def arrived(self, nonce: str, deadline: float) -> float | None:
        """The monotonic time `nonce` arrived, waiting for it until `deadline` (monotonic)."""
        with self._changed:
            while nonce not in self._arrived:
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self._changed.wait(left)
            return self._arrived[nonce]

    def close(self) -> None:
        with contextlib.suppress(Exception):  # nothing left to close
            self._client.disconnect()
        for handler in list(self._logger.handlers):
            self._logger.removeHandler(handler)
