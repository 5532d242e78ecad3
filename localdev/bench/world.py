"""The local world a bench measures against: Azurite, the Service Bus emulator and the sandbox, on free ports.

``make bench`` and ``make bench-vs-dlt`` both start it in a temporary folder
and stop it at the end, so a bench never meets ``make run``'s data or ports.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from localdev import services
from localdev.local_ca import server_certificate


def _queue(name: str) -> dict[str, object]:
    return {"Name": name, "Properties": {"LockDuration": "PT5M", "MaxDeliveryCount": 5}}


BENCH_ENTITIES = {
    "UserConfig": {
        "Namespaces": [
            {"Name": "bench", "Queues": [_queue("batch-loads"), _queue("bench-extract-loads")], "Topics": []}
        ],
        "Logging": {"Type": "File"},
    }
}


@dataclass(frozen=True)
class BenchWorld:
    """Where the bench's services listen, and the folder they keep their data in."""

    root: Path
    blob: str  # Azurite's connection string
    servicebus: str  # the emulator's connection string
    org_url: str  # the sandbox Dataverse; empty when the world has no sandbox
    ca_bundle: Path


@contextmanager
def bench_world(*, sandbox: bool = True) -> Iterator[BenchWorld]:
    """Start the services (the sandbox only when ``sandbox``), yield where they are, stop them."""
    with tempfile.TemporaryDirectory(prefix="hub-bench-") as folder:
        root = Path(folder)
        certs = server_certificate(root / "certs")
        config = root / "servicebus.json"
        config.write_text(json.dumps(BENCH_ENTITIES))
        ports = {name: services.free_port() for name in ("azurite", "servicebus", "sandbox")}
        specs = [
            services.azurite(ports["azurite"], root / "azurite"),
            services.python_module(
                "servicebus-emulator",
                "localdev.servicebus_emulator",
                ports["servicebus"],
                ["--port", str(ports["servicebus"]), "--config", str(config), "--data", str(root / "sb")],
                root / "servicebus.log",
            ),
        ]
        if sandbox:
            specs.append(
                services.python_module(
                    "sandbox",
                    "localdev.sandbox",
                    ports["sandbox"],
                    [
                        "--port",
                        str(ports["sandbox"]),
                        "--data",
                        str(root / "sandbox"),
                        "--certs",
                        str(root / "certs"),
                    ],
                    root / "sandbox.log",
                )
            )
        running = []
        try:
            for spec in specs:
                running.append(services.start(spec))
            yield BenchWorld(
                root=root,
                blob=services.azurite_connection_string(ports["azurite"]),
                servicebus=(
                    f"Endpoint=sb://127.0.0.1:{ports['servicebus']};SharedAccessKeyName=RootManageSharedAccessKey;"
                    "SharedAccessKey=bench;UseDevelopmentEmulator=true;"
                ),
                org_url=f"https://127.0.0.1:{ports['sandbox']}" if sandbox else "",
                ca_bundle=certs.ca_bundle,
            )
        finally:
            for service in reversed(running):
                service.stop()
