"""The connectors' world: a small sandbox SQL Server, the real engine and loader, the sandbox Dataverse.

The sandbox SQL Server (40 sites, 20 payroll days) is built once per session
and copied for each test, so a test may change its source rows freely. Runs go
through Azurite, the Service Bus emulator and the real ``DataverseSink``.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from azure.storage.blob import BlobServiceClient
from sqlalchemy import Engine

from localdev.sandbox_sql import SandboxSummary, sandbox_url
from shared.connectors.catalog import hub_streams
from shared.connectors.dataverse.client import DataverseClient, web_api_root
from shared.connectors.dataverse.sink import DataverseSink
from shared.connectors.legion.wage_rates import DifferentialPay
from shared.http.hosts import HostRegistry
from shared.http.policy import HttpPolicy
from shared.pipeline.load import BatchLoader, LoadBatchMessage
from shared.pipeline.requests import SyncRequest
from shared.pipeline.run_record import RunRecord
from shared.sql.engines import TOWNE_PARK_DATABASES, sql_server_engine
from tests.fixtures.dataverse_sandbox import DataverseSandbox
from tests.fixtures.servicebus_emulator import ServiceBusEmulator
from tests.pipeline.world import LOAD_QUEUE, World, build_world
from tests.sandbox_worlds import sandbox_world

EVERY_STREAM = (
    "master_customer_sites",
    "user_roles",
    "user_sites",
    "job_codes",
    "job_codes_by_site",
    "wage_rates",
    "billable_expense_budgets",
)


@pytest.fixture(scope="session")
def built_sandbox(tmp_path_factory: pytest.TempPathFactory, pytestconfig: pytest.Config) -> SandboxSummary:
    return sandbox_world(tmp_path_factory, pytestconfig, "connectors-sql", sites=40, days=20, seed=7)


@pytest.fixture
def sql_folder(built_sandbox: SandboxSummary, tmp_path: Path) -> Path:
    """This test's own copy of the sandbox SQL Server."""
    folder = tmp_path / "sql"
    folder.mkdir()
    for database in TOWNE_PARK_DATABASES:
        shutil.copyfile(built_sandbox.folder / f"{database}.sqlite", folder / f"{database}.sqlite")
    return folder


@pytest.fixture
def sink(dataverse_sandbox: DataverseSandbox) -> Iterator[DataverseSink]:
    hosts = HostRegistry(HttpPolicy(budget_seconds=60), verify=dataverse_sandbox.ca_bundle)
    client = DataverseClient(hosts.client(web_api_root(dataverse_sandbox.url)), dataverse_sandbox.hub_token())
    yield DataverseSink(client, retry_budget_seconds=60, cap_seconds=2)
    hosts.close()


@dataclass
class Hub:
    """The engine and loader of one test, over one SQL folder; ``sync`` runs streams and loads them."""

    world: World
    engine: Engine

    def sync(self, *streams: str) -> dict[str, RunRecord]:
        """Run ``streams`` in order, then load every batch they staged; their finished run records."""
        records = []
        for stream in streams:
            record = self.world.engine.run(SyncRequest(stream, trigger="test"))
            assert record.error is None, f"{stream}: {record.error}"
            records.append(record)
        self.load(sum(len(record.batches) for record in records))
        finished = {}
        for record in records:
            final = self.world.engine.runs.get(record.id)
            assert final is not None and final.status.finished, f"{record.stream}: {final}"
            finished[record.stream] = final
        return finished

    def load(self, batches: int) -> None:
        """Load ``batches`` load messages as the load trigger does; no waiting for a queue known to be empty."""
        loaded = 0
        with self.world.bus.get_queue_receiver(LOAD_QUEUE, max_wait_time=10) as receiver:
            while loaded < batches:
                messages = receiver.receive_messages(max_message_count=20, max_wait_time=10)
                assert messages, f"{batches - loaded} load messages never came"
                for message in messages:
                    self.world.loader.load(LoadBatchMessage.model_validate_json(b"".join(message.body)))
                    receiver.complete_message(message)
                    loaded += 1


def make_hub(
    folder: Path,
    blob_service: BlobServiceClient,
    emulator: ServiceBusEmulator,
    sink: DataverseSink,
    today: date,
    **options: Any,
) -> Iterator[Hub]:
    engine = sql_server_engine(sandbox_url(folder), None, 60)
    catalog = hub_streams(engine, today=lambda: today, **options)
    world = build_world(blob_service, emulator.connection_string, *catalog)
    world.loader = BatchLoader(world.engine.catalog, world.staging, world.state, sink, world.engine.now)
    yield Hub(world, engine)
    world.bus.close()
    engine.dispose()


@pytest.fixture
def hub(
    sql_folder: Path,
    built_sandbox: SandboxSummary,
    blob_service: BlobServiceClient,
    servicebus_emulator: ServiceBusEmulator,
    sink: DataverseSink,
) -> Iterator[Hub]:
    yield from make_hub(
        sql_folder,
        blob_service,
        servicebus_emulator,
        sink,
        built_sandbox.last_payroll_day + timedelta(days=1),
    )


@pytest.fixture
def hub_factory(
    blob_service: BlobServiceClient, servicebus_emulator: ServiceBusEmulator, sink: DataverseSink
) -> Iterator[Any]:
    """Hubs over SQL folders a test builds itself, with the options it chooses."""
    made: list[Iterator[Hub]] = []

    def build(
        folder: Path, today: date, differential_pay: DifferentialPay = DifferentialPay.DOLLARS_ONLY
    ) -> Hub:
        hubs = make_hub(
            folder, blob_service, servicebus_emulator, sink, today, differential_pay=differential_pay
        )
        made.append(hubs)
        return next(hubs)

    yield build
    for hubs in made:
        next(hubs, None)


def dataverse_rows(
    sandbox: DataverseSandbox, entity_set: str, key: tuple[str, ...]
) -> dict[tuple[Any, ...], dict[str, Any]]:
    """Every row of ``entity_set`` by its key, without Dataverse's own columns."""
    primary_id = entity_set.removesuffix("s") + "id"  # each of these sets is its table's name + "s"
    found: dict[tuple[Any, ...], dict[str, Any]] = {}
    with sandbox.client() as client:
        url = entity_set
        while url:
            page = client.get(url, headers={"Prefer": "odata.maxpagesize=5000"}).json()
            for row in page["value"]:
                values = {
                    name: value
                    for name, value in row.items()
                    if name.startswith("bs_") and name != primary_id
                }
                found[tuple(row[name] for name in key)] = values
            url = page.get("@odata.nextLink", "")
    return found
