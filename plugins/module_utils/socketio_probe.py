# Copyright (c) owui.realtime contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A real Socket.IO handshake over the websocket transport, the way a browser tab opens one."""

from __future__ import annotations

import contextlib
import logging
from typing import Any

from ansible_collections.owui.realtime.plugins.module_utils.optional_library import optional_import

socketio, SOCKETIO_IMPORT_ERROR = optional_import("socketio")
# Not used here: python-socketio's sync client imports websocket-client only when it opens a
# websocket transport, so its absence would show up late and as a transport error.
_websocket, WEBSOCKET_CLIENT_IMPORT_ERROR = optional_import("websocket")

SOCKETIO_PATH = "/ws/socket.io"


class _Collect(logging.Handler):
    """Keeps what engine.io says while connecting; its own errors name the real reason."""

    def __init__(self) -> None:
        super().__init__(level=logging.INFO)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def handshake(url: str, timeout: float) -> dict[str, Any]:
    """Connect to Open WebUI's Socket.IO endpoint with only the websocket transport.

    Returns ok, sid and transport on success, or ok=False and error with engine.io's words.
    Open WebUI accepts a connection without a token, so no credentials are needed.
    """
    collect = _Collect()
    logger = logging.getLogger(f"owui.realtime.websocket_check.{id(collect)}")
    logger.propagate = False
    logger.setLevel(logging.INFO)
    logger.addHandler(collect)
    client = socketio.Client(reconnection=False, logger=logger, engineio_logger=logger)
    try:
        client.connect(
            url,
            transports=["websocket"],
            socketio_path=SOCKETIO_PATH,
            wait_timeout=max(1, int(timeout)),
        )
        return {"ok": True, "sid": client.get_sid(), "transport": client.transport()}
    except Exception as exc:
        said = [line for line in collect.lines if line and "Attempting" not in line][-3:]
        error = str(exc) or type(exc).__name__
        if said:
            error += " (" + "; ".join(said) + ")"
        return {"ok": False, "error": error}
    finally:
        with contextlib.suppress(Exception):  # nothing left to close
            client.disconnect()
        logger.removeHandler(collect)
