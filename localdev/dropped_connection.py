"""Dropping a sandbox's connection with no HTTP answer at all, as a broken network or a crashed front end does.

An ASGI app cannot do this by itself under uvicorn: an exception raised before
the response starts is answered ``500 Internal Server Error``, and one raised
after it has started leaves the status line and headers already sent. So the
sandboxes run on ``DroppingH11Protocol``, uvicorn's own h11 protocol with one
server extension added to every HTTP scope, ``localdev.drop_connection``: an
awaitable that aborts the TCP connection (no TLS close_notify, nothing
flushed) and returns once uvicorn has seen it lost, so whatever the app sends
afterwards is discarded by uvicorn itself. The client sees the connection
closed or reset before any byte of an answer: ``httpx.RemoteProtocolError``
("Server disconnected without sending a response") or ``httpx.ReadError``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from uvicorn.protocols.http.h11_impl import H11Protocol

DROP_CONNECTION = "localdev.drop_connection"


class DroppingH11Protocol(H11Protocol):
    """uvicorn's h11 protocol whose requests may abort their own connection (``uvicorn.run(http=...)``)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._lost = asyncio.Event()
        served = self.app

        async def app(scope: Any, receive: Any, send: Any) -> None:
            if scope["type"] == "http":
                scope["extensions"] = {**scope.get("extensions", {}), DROP_CONNECTION: self._drop}
            await served(scope, receive, send)

        self.app = app

    def connection_lost(self, exc: Exception | None) -> None:
        super().connection_lost(exc)
        self._lost.set()

    async def _drop(self) -> None:
        self.transport.abort()
        await self._lost.wait()


async def drop_connection(request: Request) -> None:
    """Abort the connection ``request`` came on; the caller then returns any response, which is never sent."""
    drop: Callable[[], Awaitable[None]] | None = request.scope.get("extensions", {}).get(DROP_CONNECTION)
    if drop is None:
        raise RuntimeError("the server does not offer dropping a connection: run it with DroppingH11Protocol")
    await drop()
