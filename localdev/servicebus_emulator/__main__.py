"""``python -m localdev.servicebus_emulator --config config.json --port 5672 --data .local/servicebus``.

``--admin-port 5673`` also serves the fault switches over HTTP (see ``admin``).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path

from localdev.servicebus_emulator.admin import serve_admin
from localdev.servicebus_emulator.broker import Broker
from localdev.servicebus_emulator.config import ConfigError, load_namespace
from localdev.servicebus_emulator.faults import DuplicateDeliveries
from localdev.servicebus_emulator.server import serve
from localdev.servicebus_emulator.store import MessageStore

DATABASE = "messages.sqlite3"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m localdev.servicebus_emulator", description=__doc__)
    parser.add_argument(
        "--config", type=Path, required=True, help="entities, in Microsoft's Config.json format"
    )
    parser.add_argument("--port", type=int, default=5672, help="loopback port for AMQP (default 5672)")
    parser.add_argument("--data", type=Path, required=True, help="folder for the message database")
    parser.add_argument("--admin-port", type=int, help="loopback HTTP port for /admin/faults (default: none)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        namespace = load_namespace(args.config)
    except ConfigError as error:
        print(error, file=sys.stderr)
        return 2
    duplicates = DuplicateDeliveries()
    if args.admin_port is not None:
        serve_admin(duplicates, args.admin_port)
    store = MessageStore(args.data / DATABASE)
    try:
        released = store.expire_all_locks()
        if released:
            logging.getLogger(__name__).info("%d messages were locked when the emulator stopped", released)
        asyncio.run(serve(Broker(namespace, store, duplicates=duplicates), args.port))
    finally:
        store.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
