"""A cap on request body size, so one request cannot exhaust the server's memory.

uvicorn reads bodies of any size. This ASGI middleware returns 413 when the
declared `Content-Length` exceeds the cap. It stops reading a body sent
without one (chunked) as soon as the body passes the cap.
"""

from __future__ import annotations

import json
import logging

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from govchain.ledger.transaction import MAX_TX_BYTES

logger = logging.getLogger(__name__)

#: Default cap: 100 MiB. NOTE: this is a guess that leaves room for a version
#: of about a million short rows. Parsing JSON takes several times the body
#: size in memory, so raise it only with memory to match.
DEFAULT_MAX_BODY_BYTES = 100 * 1024 * 1024

#: Lower caps for routes whose bodies are small: transactions take no token, so
#: an anonymous caller cannot make the server read a large body, and a
#: checkpoint note is a few hundred bytes. A transaction is at most
#: `MAX_TX_BYTES` in its canonical form; twice that leaves room for whitespace.
ROUTE_MAX_BODY_BYTES = {
    "/v1/transactions": 2 * MAX_TX_BYTES,
    "/v1/checkpoints": 64 * 1024,
}


class _BodyTooLarge(Exception):
    pass


class BodyLimit:
    """Middleware that returns 413 for request bodies larger than `max_bytes`.

    Routes in `ROUTE_MAX_BODY_BYTES` have the lower of their own cap and
    `max_bytes`.
    """

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = min(
            self.max_bytes, ROUTE_MAX_BODY_BYTES.get(scope["path"], self.max_bytes)
        )
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > limit:
            await self._refuse(scope, send, limit)
            return
        received = 0
        too_large = False
        answered = False

        async def limited_receive() -> Message:
            nonlocal received, too_large
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    too_large = True
                    raise _BodyTooLarge
            return message

        async def replacing_send(message: Message) -> None:
            # FastAPI turns an error while reading the body into its own 400
            # response, so that response is replaced by the 413 here.
            nonlocal answered
            if not too_large:
                await send(message)
            elif not answered and message["type"] == "http.response.start":
                answered = True
                await self._refuse(scope, send, limit)

        try:
            await self.app(scope, limited_receive, replacing_send)
        except _BodyTooLarge:
            if not answered:
                await self._refuse(scope, send, limit)

    async def _refuse(self, scope: Scope, send: Send, limit: int) -> None:
        client = scope.get("client")
        logger.warning(
            "%s %s from %s rejected: body over %d bytes",
            scope.get("method"),
            scope.get("path"),
            client[0] if client else "unknown",
            limit,
        )
        body = json.dumps(
            {
                "error": f"request body is larger than the limit of {limit:,} bytes "
                f"for {scope.get('path')}; {_advice(scope.get('path'))}",
                "reason": "too-large",
            }
        ).encode("utf-8")
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode("ascii")),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


def _advice(path: object) -> str:
    """Return what to do about a body over the limit of `path`."""
    if path in ROUTE_MAX_BODY_BYTES:
        return (
            "no valid body of this route is that large, so check what the client sends"
        )
    return "send it in smaller requests, or stop the server and use the CLI on the node home"
