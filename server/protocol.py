"""JSON-RPC hardening: every unreadable message gets an error answer and the server stays up.

The frames themselves (headers and lengths that lie) are read by `framing.FrameReader`, whose
results arrive here through the `Sink` methods at the end of this class.

pygls answers unknown methods with MethodNotFound, but a request whose params do not fit its
method, a message that is not a JSON object, or a body that is not JSON at all would get no
answer (the editor waits for ever) and a pop-up. Here they get the JSON-RPC error the spec names:
InvalidParams (-32602), InvalidRequest (-32600) or ParseError (-32700, id null).
"""

from __future__ import annotations

import json
import logging
from typing import Any

from lsprotocol import types as lsp
from pygls.exceptions import (
    JsonRpcException,
    JsonRpcInvalidParams,
    JsonRpcInvalidRequest,
)
from pygls.protocol import LanguageServerProtocol

log = logging.getLogger(__name__)


class Rejected:
    """A message that could not be read, answered with `error` by `handle_message`."""

    jsonrpc = "2.0"

    def __init__(self, msg_id: Any, error: JsonRpcException) -> None:
        self.id = msg_id
        self.error = error


def _valid_id(value: Any) -> bool:
    return isinstance(value, int | str) and not isinstance(value, bool)


class DeepevalProtocol(LanguageServerProtocol):
    def structure_message(self, data: dict[str, Any]) -> Any:
        if "jsonrpc" not in data:
            return data  # a nested object, or a message without "jsonrpc" (refused below)
        try:
            return super().structure_message(data)
        except JsonRpcException as e:
            method = data.get("method")
            if isinstance(method, str) and _valid_id(data.get("id")):
                detail = f"{e.__cause__}".splitlines()[0] if e.__cause__ else ""
                return Rejected(
                    data["id"],
                    JsonRpcInvalidParams(f"invalid params for {method}: {detail}".rstrip(": ")),
                )
            if method is None and "result" not in data and "error" not in data:
                return Rejected(
                    data.get("id") if _valid_id(data.get("id")) else None,
                    JsonRpcInvalidRequest("a message needs a method, a result or an error"),
                )
            raise

    def handle_message(self, message: Any) -> None:
        if isinstance(message, Rejected):
            log.warning("refused a message: %s", message.error.message)
            self._send_response(message.id, error=message.error.to_response_error())
            return
        if not hasattr(message, "jsonrpc") or isinstance(message, dict):
            log.warning("refused a message that is not a JSON-RPC 2.0 object: %.200r", message)
            self._send_response(
                None,
                error=JsonRpcInvalidRequest(
                    "expected a JSON-RPC 2.0 message object (batches are not supported)"
                ).to_response_error(),
            )
            return
        super().handle_message(message)

    # -- framing.Sink: what the frame reader found ------------------------------------------

    def parse(self, body: bytes) -> Any:
        return json.loads(body, object_hook=self.structure_message)

    def handle(self, message: Any) -> None:
        self.handle_message(message)

    def reject(self, msg_id: Any, code: int, text: str) -> None:
        self._send_response(msg_id, error=lsp.ResponseError(code=code, message=text))

    def warn(self, text: str) -> None:
        log.warning("%s", text)
        try:
            self.notify(
                lsp.WINDOW_LOG_MESSAGE,
                lsp.LogMessageParams(type=lsp.MessageType.Warning, message=f"deepeval: {text}"),
            )
        except Exception:
            log.exception("could not send a log message")

    def failed(self, error: Exception) -> None:
        self._server._report_server_error(error, JsonRpcException)
