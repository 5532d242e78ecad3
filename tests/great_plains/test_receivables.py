"""Payments applied in sandbox GP reach the invoices in the sandbox Dataverse on the next sync.

The real path but the Functions host: the stream reads the sandbox GP company
databases, the engine stages in Azurite and publishes on the Service Bus
emulator, and the loader writes through the real sink to the sandbox
Dataverse. Payments go through sandbox GP's ``/admin/payments``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest
from azure.storage.blob import BlobServiceClient
from sqlalchemy import Engine, create_engine

from localdev.sandbox_gp.company import company_path
from shared.connectors.dataverse.client import DataverseClient, web_api_root
from shared.connectors.dataverse.sink import DataverseSink
from shared.connectors.great_plains.receivables import (
    AMOUNT_DUE,
    AMOUNT_PAID,
    DOCUMENT_NUMBER,
    PAYMENT_STATUS,
    STREAM,
    GpInvoiceBalance,
    invoice_payment_status_stream,
    to_invoice_payment,
)
from shared.http.hosts import HostRegistry
from shared.http.policy import HttpPolicy
from shared.pipeline.load import BatchLoader
from shared.pipeline.requests import SyncRequest
from shared.pipeline.run_record import RunRecord, RunStatus
from tests.fixtures.dataverse_sandbox import DataverseSandbox
from tests.fixtures.gp_sandbox import GpSandbox
from tests.fixtures.servicebus_emulator import ServiceBusEmulator
from tests.pipeline.world import World, build_world

pytestmark = pytest.mark.services

# (company, invoice number, amount, GP batch): the batch ids as today's flows, GP's 15 characters and
# the compact style write them.
INVOICES = (
    ("TOWNE", "0170-202504-01-00", "1250.00", "202504POWERBILL2025-04-30"),
    ("TOWNE", "0231-202504-01-00", "980.40", "202504POWERBILL"),
    ("ENC", "0004-202504-01-00", "310.00", "202504PB250430"),
)
# Keyed in GP by hand, with no invoice in Dataverse: a batch SQL already leaves out, and one it cannot.
STRANGERS = (
    ("TOWNE", "MANUAL000123", "77.00", "RMSLS00000041"),
    ("TOWNE", "MANUAL000124", "12.00", "PBADJ0425"),
)


def document_number(invoice_number: str) -> str:
    return invoice_number.replace("-", "")


@pytest.fixture
def company_engine(gp_sandbox: GpSandbox) -> Iterator[Callable[[str], Engine]]:
    engines: dict[str, Engine] = {}

    def engine(company: str) -> Engine:
        path = company_path(gp_sandbox.folder, company)
        return engines.setdefault(company, create_engine(f"sqlite:///{path}"))

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
    stream = invoice_payment_status_stream(company_engine, page_rows=2)
    world = build_world(blob_service, servicebus_emulator.connection_string, stream)
    sink = DataverseSink(client, retry_budget_seconds=60, cap_seconds=2)
    world.loader = BatchLoader(world.engine.catalog, world.staging, world.state, sink, world.engine.now)
    yield world
    world.bus.close()
    hosts.close()


def seed_gp(gp: GpSandbox, *documents: tuple[str, str, str, str]) -> None:
    for company, number, amount, batch in documents:
        with sqlite3.connect(company_path(gp.folder, company)) as connection:
            connection.execute(
                "INSERT INTO RM20101 (CUSTNMBR, DOCNUMBR, RMDTYPAL, BACHNUMB, DOCDATE, ORTRXAMT, CURTRXAM, "
                "SLSAMNT) VALUES (?, ?, 1, ?, '2025-04-30', ?, ?, ?)",
                (number[:4], document_number(number), batch, amount, amount, amount),
            )


def seed_dataverse_invoices(sandbox: DataverseSandbox) -> None:
    """The invoices as the poster leaves them: GP's document number and batch written on each."""
    with sandbox.client() as client:
        for _, number, amount, batch in INVOICES:
            answer = client.patch(
                f"bs_invoices(bs_invoicenumber='{number}')",
                json={
                    "bs_amount": float(amount),
                    DOCUMENT_NUMBER: document_number(number),
                    "bs_gpbatchid": batch,
                },
            )
            assert answer.status_code < 300, answer.text


def invoices(sandbox: DataverseSandbox) -> dict[str, dict[str, Any]]:
    columns = ",".join(("bs_invoicenumber", DOCUMENT_NUMBER, PAYMENT_STATUS, AMOUNT_DUE, AMOUNT_PAID))
    with sandbox.client() as client:
        rows = client.get(f"bs_invoices?$select={columns}").json()["value"]
    return {row[DOCUMENT_NUMBER]: row for row in rows}


def sync(hub: World) -> RunRecord:
    record = hub.engine.run(SyncRequest(STREAM))
    hub.drain_loads()
    final = hub.engine.runs.get(record.id)
    assert final is not None and final.status is RunStatus.SUCCEEDED, final
    return final


def pay(gp: GpSandbox, company: str, invoice_number: str, amount: str) -> httpx.Response:
    body = {"company": company, "document": document_number(invoice_number), "amount": amount}
    return httpx.post(f"{gp.url}/admin/payments", json=body)


def status(row: dict[str, Any]) -> tuple[str, float, float]:
    return row[PAYMENT_STATUS], row[AMOUNT_DUE], row[AMOUNT_PAID]


@pytest.mark.slow(12)
def test_payments_applied_in_gp_show_up_as_invoice_payment_status_on_the_next_sync(
    hub: World, gp_sandbox: GpSandbox, dataverse_sandbox: DataverseSandbox
) -> None:
    seed_dataverse_invoices(dataverse_sandbox)
    seed_gp(gp_sandbox, *INVOICES, *STRANGERS)

    first = sync(hub)
    assert first.extract.staged == 3 and first.extract.skipped == 1
    rows = invoices(dataverse_sandbox)
    assert {number: status(row) for number, row in rows.items()} == {
        "01702025040100": ("Open", 1250.0, 0.0),
        "02312025040100": ("Open", 980.4, 0.0),
        "00042025040100": ("Open", 310.0, 0.0),
    }

    partial = pay(gp_sandbox, "TOWNE", "0170-202504-01-00", "500.25")
    assert partial.json() == {"document": "01702025040100", "remaining": "749.75"}
    assert pay(gp_sandbox, "ENC", "0004-202504-01-00", "300.00").status_code == 200
    assert pay(gp_sandbox, "ENC", "0004-202504-01-00", "10.00").json()["remaining"] == "0.00"
    assert gp_sandbox.rows("ENC", "SELECT COUNT(*) FROM RM20101 WHERE RMDTYPAL = 1") == [(0,)]

    second = sync(hub)
    assert second.extract.staged == 2 and second.extract.unchanged == 1
    rows = invoices(dataverse_sandbox)
    assert status(rows["01702025040100"]) == ("Partially paid", 749.75, 500.25)
    assert status(rows["00042025040100"]) == ("Paid", 0.0, 310.0)
    assert status(rows["02312025040100"]) == ("Open", 980.4, 0.0)

    batches_before = dataverse_sandbox.stats()["batches"]
    third = sync(hub)
    assert third.extract.staged == 0 and third.extract.unchanged == 3 and not third.batches
    assert dataverse_sandbox.stats()["batches"] == batches_before


def test_a_gp_document_no_powerbill_batch_posted_creates_no_invoice(
    hub: World, gp_sandbox: GpSandbox, dataverse_sandbox: DataverseSandbox
) -> None:
    seed_gp(gp_sandbox, *STRANGERS)

    record = sync(hub)

    assert record.extract.read == 1 and record.extract.skipped == 1 and record.extract.staged == 0
    assert invoices(dataverse_sandbox) == {}


def test_gp_refuses_a_payment_larger_than_the_open_amount_or_on_an_unknown_invoice(
    gp_sandbox: GpSandbox,
) -> None:
    seed_gp(gp_sandbox, INVOICES[0])

    too_much = pay(gp_sandbox, "TOWNE", "0170-202504-01-00", "1250.01")
    unknown = pay(gp_sandbox, "TOWNE", "9999-202504-01-00", "1.00")

    assert too_much.status_code == 400 and "more than the 1250" in too_much.json()["error"]
    assert unknown.status_code == 400 and "no open invoice" in unknown.json()["error"]
    assert gp_sandbox.rows("TOWNE", "SELECT CURTRXAM FROM RM20101") == [(1250,)]


def test_a_voided_invoice_reads_as_voided_with_nothing_due_or_paid() -> None:
    voided = GpInvoiceBalance(
        company="TOWNE",
        document_number="01702025040100 ",
        batch_id="202504POWERBILL",
        original=Decimal("1250"),
        open_amount=Decimal("1250"),
        voided=True,
    )

    assert to_invoice_payment(voided) == {
        DOCUMENT_NUMBER: "01702025040100",
        PAYMENT_STATUS: "Voided",
        AMOUNT_DUE: 0.0,
        AMOUNT_PAID: 0.0,
    }
