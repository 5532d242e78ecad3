"""The emulator's process: listen on loopback, serve connections, tick the clock, stop cleanly on a signal."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal

from localdev.servicebus_emulator.broker import Broker
from localdev.servicebus_emulator.connection import AmqpConnection

_LOG = logging.getLogger(__name__)
TICK_SECONDS = 0.1  # how late a lock expiry or a scheduled message may be noticed


async def serve(broker: Broker, port: int, host: str = "127.0.0.1") -> None:
    """Serve until SIGINT or SIGTERM, then close every connection so clients see the emulator go."""
    connections: set[AmqpConnection] = set()

    async def on_client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connection = AmqpConnection(reader, writer, broker)
        connections.add(connection)
        try:
            await connection.serve()
        finally:
            connections.discard(connection)

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for stop_signal in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(stop_signal, stop.set)
    server = await asyncio.start_server(on_client, host, port)
    print(f"Service Bus emulator listening on amqp://{host}:{port}", flush=True)
    clock = asyncio.create_task(_tick(broker, stop))
    await stop.wait()
    server.close()
    for connection in list(connections):
        connection.close()
    await clock
    await server.wait_closed()
    _LOG.info("stopped")


async def _tick(broker: Broker, stop: asyncio.Event) -> None:
    while not stop.is_set():
        try:
            broker.tick()
        except Exception:  # noqa: BLE001 - a failed tick is logged and retried, never fatal
            _LOG.exception("the broker's clock tick failed; retrying")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), TICK_SECONDS)
