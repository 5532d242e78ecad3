"""``python -m localdev.bench.wage_rates --folder /tmp/sql730``: the wage-rate sync measured on a sandbox.

Runs the real ``wage_rates`` stream (SQL aggregation over the last 14 days of
``vwPAYROLL_SUMMARY``, validation, staging to Azurite, load messages to the
Service Bus emulator) against a sandbox SQL Server built with
``python -m localdev.sandbox_sql --folder /tmp/sql730 --days 730``, and prints
the run time, rows and this process's peak RSS. ``--load`` also loads the
staged batches into a sandbox Dataverse with the real loader and sink.
Story 2183's target is 50k records in 30 minutes.

"Today" is the day after the sandbox's last payroll day unless ``--today`` says
otherwise, so the 14-day window always holds data. Azurite, the emulator and
the sandbox run on free ports in a temporary folder and stop at the end.
"""

from __future__ import annotations

import argparse
import json
import resource
import tempfile
import time
import uuid
from datetime import date, timedelta
from pathlib import Path

from azure.servicebus import ServiceBusClient
from azure.storage.blob import BlobServiceClient
from sqlalchemy import Engine, func, select

from localdev import services
from localdev.bench.sandbox_sign_in import sandbox_dataverse
from localdev.local_ca import server_certificate
from localdev.sandbox_sql import sandbox_url
from shared.connectors.dataverse.sink import DataverseSink
from shared.connectors.legion.days import LastDays
from shared.connectors.legion.wage_rates import STREAM, DifferentialPay, wage_rates_stream
from shared.http.hosts import HostRegistry
from shared.pipeline.load import BatchLoader, LoadBatchMessage
from shared.pipeline.requests import SyncRequest
from shared.pipeline.run_record import RunMode
from shared.pipeline.stream import StreamCatalog
from shared.pipeline.sync import SyncEngine
from shared.platform.blob_lock import BlobLocks
from shared.platform.blob_store import BlobStore
from shared.platform.service_bus import ServiceBus
from shared.sql.engines import sql_server_engine
from shared.sql.tables import vw_payroll_summary

LOAD_QUEUE = "batch-loads"
_QUEUE = {"Name": LOAD_QUEUE, "Properties": {"LockDuration": "PT5M", "MaxDeliveryCount": 5}}
_ENTITIES = {
    "UserConfig": {
        "Namespaces": [{"Name": "bench", "Queues": [_QUEUE], "Topics": []}],
        "Logging": {"Type": "File"},
    }
}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m localdev.bench.wage_rates", description=__doc__)
    parser.add_argument("--folder", type=Path, required=True, help="a sandbox SQL Server folder")
    parser.add_argument(
        "--today", type=date.fromisoformat, help="default: the day after the last payroll day"
    )
    parser.add_argument(
        "--differential-pay",
        choices=[kind.value for kind in DifferentialPay],
        default="dollars_only",
        help="how DIFFERENTIAL and MEAL PREMIUM rows count (default dollars_only, today's rule)",
    )
    parser.add_argument("--load", action="store_true", help="also load into a sandbox Dataverse")
    arguments = parser.parse_args()
    edw = sql_server_engine(sandbox_url(arguments.folder), None, 300)
    today = arguments.today or _day_after_last_payroll(edw)
    with tempfile.TemporaryDirectory(prefix="hub-bench-wages-") as folder:
        root = Path(folder)
        running, blob, bus, dataverse = _start_services(root, arguments.load)
        try:
            _measure(edw, today, DifferentialPay(arguments.differential_pay), blob, bus, dataverse)
        finally:
            for service in reversed(running):
                service.stop()
    edw.dispose()


def _day_after_last_payroll(edw: Engine) -> date:
    with edw.connect() as connection:
        last = connection.execute(select(func.max(vw_payroll_summary.c.DATE))).scalar_one()
    return date.fromisoformat(str(last)) + timedelta(days=1)


Sandbox = tuple[str, Path]  # the sandbox Dataverse's org URL and the CA bundle that trusts it


def _start_services(
    root: Path, with_dataverse: bool
) -> tuple[list[services.RunningService], str, str, Sandbox | None]:
    config = root / "servicebus.json"
    config.write_text(json.dumps(_ENTITIES))
    azurite_port, bus_port = services.free_port(), services.free_port()
    running = [
        services.start(services.azurite(azurite_port, root / "azurite")),
        services.start(
            services.python_module(
                "servicebus-emulator",
                "localdev.servicebus_emulator",
                bus_port,
                ["--port", str(bus_port), "--config", str(config), "--data", str(root / "sb")],
                root / "servicebus.log",
            )
        ),
    ]
    dataverse = None
    if with_dataverse:
        certificate = server_certificate(root / "certs")
        port = services.free_port()
        arguments = ["--port", str(port), "--data", str(root / "sandbox"), "--certs", str(root / "certs")]
        running.append(
            services.start(
                services.python_module("sandbox", "localdev.sandbox", port, arguments, root / "sandbox.log")
            )
        )
        dataverse = (f"https://127.0.0.1:{port}", certificate.ca_bundle)
    bus = (
        f"Endpoint=sb://127.0.0.1:{bus_port};SharedAccessKeyName=RootManageSharedAccessKey;"
        "SharedAccessKey=bench;UseDevelopmentEmulator=true;"
    )
    return running, services.azurite_connection_string(azurite_port), bus, dataverse


def _measure(
    edw: Engine,
    today: date,
    differential: DifferentialPay,
    blob: str,
    bus_connection: str,
    dataverse: Sandbox | None,
) -> None:
    stream = wage_rates_stream(edw, days=LastDays(14, lambda: today), differential=differential)
    blob_service = BlobServiceClient.from_connection_string(blob)
    suffix = uuid.uuid4().hex[:8]
    staging, state = BlobStore(blob_service, f"staging-{suffix}"), BlobStore(blob_service, f"state-{suffix}")
    staging.ensure_container()
    state.ensure_container()
    sdk = ServiceBusClient.from_connection_string(bus_connection)
    catalog = StreamCatalog([stream])
    engine = SyncEngine(catalog, staging, state, BlobLocks(state.container), ServiceBus(sdk), LOAD_QUEUE)
    first, end = LastDays(14, lambda: today).bounds()
    view = vw_payroll_summary.c
    with edw.connect() as connection:
        window_rows = connection.execute(
            select(func.count()).where(view.DATE >= first, view.DATE < end)
        ).scalar_one()
    print(
        f"wage rates for {first} to {end - timedelta(days=1)} ({differential.value}): {window_rows:,} payroll rows"
    )
    for mode in (RunMode.FULL, RunMode.INCREMENTAL):
        started = time.perf_counter()
        record = engine.run(SyncRequest(STREAM, mode=mode, trigger="bench"))
        seconds = time.perf_counter() - started
        counts = record.extract
        print(
            f"  {mode.value:<12} extract→stage {seconds:6.2f} s  rows {counts.read:,}  quarantined "
            f"{counts.quarantined}  staged {counts.staged:,} in {len(record.batches)} batches"
            + (f"  FAILED: {record.error.message}" if record.error else "")
        )
        if mode is RunMode.FULL and dataverse is not None:
            _load(catalog, staging, state, engine, sdk, len(record.batches), dataverse)
    print(f"  peak RSS of this process {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MB")
    sdk.close()


def _load(
    catalog: StreamCatalog,
    staging: BlobStore,
    state: BlobStore,
    engine: SyncEngine,
    sdk: ServiceBusClient,
    batches: int,
    sandbox: Sandbox,
) -> None:
    org_url, ca_bundle = sandbox
    hosts = HostRegistry(verify=ca_bundle)
    dataverse, token = sandbox_dataverse(org_url, ca_bundle, hosts)
    sink = DataverseSink(dataverse)
    loader = BatchLoader(catalog, staging, state, sink, engine.now)
    token()  # sign in before the clock starts: this measures loading, not MSAL's first call
    started = time.perf_counter()
    loaded = upserted = 0
    with sdk.get_queue_receiver(LOAD_QUEUE, max_wait_time=5) as receiver:
        while loaded < batches:
            for message in receiver.receive_messages(max_message_count=10, max_wait_time=5):
                result = loader.load(LoadBatchMessage.model_validate_json(b"".join(message.body)))
                receiver.complete_message(message)
                loaded += 1
                upserted += result.counts.upserted
    seconds = time.perf_counter() - started
    print(
        f"  load         {seconds:6.2f} s  {upserted:,} upserted into the sandbox Dataverse in {loaded} batches"
    )
    hosts.close()


if __name__ == "__main__":
    main()
