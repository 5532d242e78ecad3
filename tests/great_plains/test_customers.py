"""GP's customer cards reach the customer sites in the sandbox Dataverse on the gp_customers sync.

The real path but the Functions host, as ``test_receivables.py``: the stream
reads the sandbox GP company databases, stages in Azurite, publishes on the
emulator, and the loader writes through the real sink. What each site should
show is read straight from the company databases with SQL of the test's own.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from azure.storage.blob import BlobServiceClient
from sqlalchemy import Engine, create_engine

from localdev.sandbox_gp.company import Customer, company_path, seed_customers
from shared.connectors.dataverse.client import DataverseClient, web_api_root
from shared.connectors.dataverse.sink import DataverseSink
from shared.connectors.great_plains.customers import STREAM, gp_customers_stream
from shared.http.hosts import HostRegistry
from shared.http.policy import HttpPolicy
from shared.pipeline.load import BatchLoader
from shared.pipeline.requests import SyncRequest
from shared.pipeline.run_record import RunStatus
from tests.fixtures.dataverse_sandbox import DataverseSandbox
from tests.fixtures.gp_sandbox import GpSandbox
from tests.fixtures.servicebus_emulator import ServiceBusEmulator
from tests.pipeline.world import World, build_world

pytestmark = pytest.mark.services

TOWNE = (
    Customer("0170", "Hotel Alpha", "1 Main St", "Nashville", "TN", "37203", "ap@alpha.example"),
    Customer("8811", "Hotel Beta, Downtown", "9 Elm Ave", "Austin", "TX", "73301", "", on_hold=True),
    Customer("ADJUST01", "Write-offs (not a site)"),
)
# 8811 is in ENC as well: TOWNE, first of the companies, wins. 0231 has a card in ENC only.
ENC = (Customer("8811", "Beta in ENC"), Customer("231", "Hotel Gamma", "5 Oak Rd", "Reno", "NV", "89501"))
SITES = ("0170", "8811", "0231")


@pytest.fixture
def company_engine(gp_sandbox: GpSandbox) -> Iterator[Callable[[str], Engine]]:
    engines: dict[str, Engine] = {}

    def engine(company: str) -> Engine:
        return engines.setdefault(
            company, create_engine(f"sqlite:///{company_path(gp_sandbox.folder, company)}")
        )

    yield engine
    for built in engines.values():
        built.dispose()


@pytest.fixture
def hub(
    blob_service: BlobServiceClient,
    servicebus_emulator: ServiceBusEmulator,
    dataverse_sandbox: DataverseSandbox,
    company_engine: Callable[[str], Engine],
) -> Iterator[World]:
    hosts = HostRegistry(HttpPolicy(budget_seconds=60), verify=dataverse_sandbox.ca_bundle)
    client = DataverseClient(hosts.client(web_api_root(dataverse_sandbox.url)), dataverse_sandbox.hub_token())
    stream = gp_customers_stream(company_engine, ("TOWNE", "ENC"), page_rows=2)
    world = build_world(blob_service, servicebus_emulator.connection_string, stream)
    sink = DataverseSink(client, retry_budget_seconds=60, cap_seconds=2)
    world.loader = BatchLoader(world.engine.catalog, world.staging, world.state, sink, world.engine.now)
    yield world
    world.bus.close()
    hosts.close()


def expected_cards(gp: GpSandbox) -> dict[str, tuple[Any, ...]]:
    """Each site's card as GP holds it, first company first, by the test's own join."""
    cards: dict[str, tuple[Any, ...]] = {}
    for company in ("TOWNE", "ENC"):
        with sqlite3.connect(company_path(gp.folder, company)) as connection:
            rows = connection.execute(
                "SELECT c.CUSTNMBR, c.CUSTNAME, c.ADDRESS1 || ', ' || c.CITY || ', ' || c.STATE || ' ' || c.ZIP, "
                "NULLIF(i.EmailToAddress, ''), c.HOLD FROM RM00101 c LEFT JOIN SY01200 i ON i.Master_Type = 'CUS' "
                "AND i.Master_ID = c.CUSTNMBR AND i.ADRSCODE = c.ADRSCODE WHERE c.CUSTNMBR GLOB '[0-9]*'"
            ).fetchall()
        for number, name, address, email, hold in rows:
            cards.setdefault(number.zfill(4), (name, address, email, bool(hold), company))
    return cards


def site_cards(sandbox: DataverseSandbox) -> dict[str, tuple[Any, ...]]:
    columns = "bs_sitenumber,bs_gpcustomername,bs_gpaddress,bs_gpemail,bs_gponhold,bs_gpcompany"
    with sandbox.client() as client:
        rows = client.get(f"bs_customersites?$select={columns}").json()["value"]
    return {
        row["bs_sitenumber"]: (
            row.get("bs_gpcustomername"), row.get("bs_gpaddress"), row.get("bs_gpemail"),
            row.get("bs_gponhold"), row.get("bs_gpcompany"),
        )
        for row in rows
    }  # fmt: skip


def test_each_site_shows_its_gp_customer_card_from_the_first_company_holding_it(
    hub: World, gp_sandbox: GpSandbox, dataverse_sandbox: DataverseSandbox
) -> None:
    seed_customers(gp_sandbox.folder, "TOWNE", TOWNE)
    seed_customers(gp_sandbox.folder, "ENC", ENC)
    with dataverse_sandbox.client() as client:
        for site in SITES:
            answer = client.patch(
                f"bs_customersites(bs_sitenumber='{site}')", json={"bs_sitename": f"Site {site}"}
            )
            assert answer.status_code < 300, answer.text

    record = hub.engine.run(SyncRequest(STREAM))
    hub.drain_loads()
    final = hub.engine.runs.get(record.id)

    assert final is not None and final.status is RunStatus.SUCCEEDED, final
    assert final.extract.skipped == 1  # ADJUST01 is no site
    assert site_cards(dataverse_sandbox) == expected_cards(gp_sandbox)
    assert site_cards(dataverse_sandbox)["8811"] == (
        "Hotel Beta, Downtown",
        "9 Elm Ave, Austin, TX 73301",
        None,
        True,
        "TOWNE",
    )
