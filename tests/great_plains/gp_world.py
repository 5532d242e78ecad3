"""The hub's GP posting path in-process, wired by the real composition root to every local sandbox.

``gp_hub`` is ``build_hub`` over Azurite, the Service Bus emulator, the sandbox
Dataverse, sandbox GP and the sandbox EDW. ``write_statement`` puts a
``BillingStatement`` into Dataverse in the shape Towne Park's tables hold it,
so a test can compare what GP received with what ``statement_postings`` says
it should.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from typing import Any

import pytest
from azure.servicebus import ServiceBusClient, ServiceBusReceivedMessage, ServiceBusReceiver

from localdev.billing_statements import invoice_data
from shared.composition import Hub, build_hub
from shared.connectors.dataverse.batch import BatchOperation
from shared.connectors.great_plains.documents import GpDocument
from shared.http.policy import HttpPolicy
from shared.settings import Settings
from shared.workflows.gp_posting.billing import BillingStatement, statement_postings
from shared.workflows.gp_posting.requests import PostingRequest
from tests.fixtures.dataverse_sandbox import DataverseSandbox
from tests.fixtures.gp_sandbox import GpSandbox
from tests.fixtures.servicebus_emulator import ServiceBusEmulator
from tests.great_plains import statements as build
from tests.pipeline.world import delivery_from_sdk

GP_POSTINGS = "gp-postings"
# SmartConnect's read time-out in tests: short, so "accepted but the reply never came" is quick to show.
SMARTCONNECT_POLICY = HttpPolicy(
    max_attempts=2, base_seconds=0.05, cap_seconds=0.1, read_timeout_seconds=1.0, budget_seconds=10
)


def gp_settings(
    azurite: str, emulator: ServiceBusEmulator, dataverse: DataverseSandbox, gp: GpSandbox, edw_url: str
) -> dict[str, str]:
    suffix = uuid.uuid4().hex[:8]
    return {
        "StagingStorage": azurite,
        "ServiceBusConnection": emulator.connection_string,
        "STAGING_CONTAINER": f"gp-staging-{suffix}",
        "STATE_CONTAINER": f"gp-state-{suffix}",
        "AUDIT_CONTAINER": f"gp-audit-{suffix}",
        "STATE_TABLE_PREFIX": f"gp{suffix}",
        "DATAVERSE_URL": dataverse.url,
        "DATAVERSE_TENANT_ID": dataverse.tenant_id,
        "DATAVERSE_CLIENT_ID": dataverse.client_id,
        "ENTRA_AUTHORITY_HOST": dataverse.authority_host,
        "LOCAL_CA_BUNDLE": str(dataverse.ca_bundle),
        "EDW_SQL_URL": edw_url,
        "GP_SMARTCONNECT_URL": gp.url,
        "GP_SQL_URL": f"sqlite:///{gp.folder}/{{company}}.sqlite",
        # Retries seconds apart, not minutes: a test sees a posting wait out GP being down.
        "RETRY_FIRST_DELAY_SECONDS": "0.5",
        "RETRY_MAX_DELAY_SECONDS": "1",
    }


@pytest.fixture
def gp_serialised() -> bool:
    """Postings wait their turn per company; a test parametrizes this to False to post in parallel."""
    return True


@pytest.fixture
def gp_hub(
    azurite: str,
    servicebus_emulator: ServiceBusEmulator,
    dataverse_sandbox: DataverseSandbox,
    gp_sandbox: GpSandbox,
    hub_sql_sandbox: str,
    gp_serialised: bool,
) -> Iterator[Hub]:
    values: dict[str, Any] = gp_settings(
        azurite, servicebus_emulator, dataverse_sandbox, gp_sandbox, hub_sql_sandbox
    )
    values["GP_SERIALISE_PER_COMPANY"] = gp_serialised
    values["__local_secrets__"] = {"SECRET_DATAVERSE_CLIENT_SECRET": dataverse_sandbox.client_secret}
    hub = build_hub(Settings(**values))
    hub.prepare_storage()
    hub.hosts.client(gp_sandbox.url, policy=SMARTCONNECT_POLICY)
    try:
        yield hub
    finally:
        hub.service_bus.close()
        hub.for_api.service_bus.close()
        hub.hosts.close()


def write_statements(hub: Hub, statements: Sequence[BillingStatement]) -> None:
    """Every statement with its site, contract and invoices, as Dataverse rows (``$batch``es of 300)."""
    operations: list[BatchOperation] = []
    for statement in statements:
        operations.extend(_statement_rows(hub, statement))
    for start in range(0, len(operations), 300):
        answers = hub.dataverse.execute_batch(operations[start : start + 300], idempotent=True)
        assert all(answer.status < 300 for answer in answers), [a.status for a in answers]


def _statement_rows(hub: Hub, statement: BillingStatement) -> list[BatchOperation]:
    site_id = uuid.uuid5(uuid.NAMESPACE_URL, f"site/{statement.statement_id}")
    rows = [
        hub.dataverse.upsert_operation(
            "bs_customersites",
            {"bs_customersiteid": site_id},
            {
                "bs_sitenumber": statement.site_number,
                "bs_glstring": statement.gl_string,
                "bs_vendorid": statement.vendor_id,
            },
        ),
        hub.dataverse.upsert_operation(
            "bs_contracts",
            {"bs_contractid": uuid.uuid5(uuid.NAMESPACE_URL, f"contract/{statement.statement_id}")},
            {
                "_bs_customersitefk_value": str(site_id),
                "bs_towneparkresponsibleforparkingtax": statement.towne_park_pays_parking_tax,
            },
        ),
        hub.dataverse.upsert_operation(
            "bs_billingstatements",
            {"bs_billingstatementid": uuid.UUID(statement.statement_id)},
            {
                "bs_serviceperiodstart": statement.service_period_start.isoformat(),
                "_bs_customersitefk_value": str(site_id),
            },
        ),
    ]
    for invoice in statement.invoices:
        rows.append(
            hub.dataverse.upsert_operation(
                "bs_invoices",
                {"bs_invoiceid": invoice_id(invoice.invoice_number)},
                {
                    "bs_invoicenumber": invoice.invoice_number,
                    "bs_amount": float(invoice.amount),
                    "bs_invoicedate": invoice.invoice_date.isoformat(),
                    "bs_invoicedata": invoice_data(invoice),
                    "_bs_billingstatementfk_value": statement.statement_id,
                },
            )
        )
    return rows


def invoice_id(invoice_number: str) -> uuid.UUID:
    return uuid.uuid5(uuid.NAMESPACE_URL, f"invoice/{invoice_number}")


def statement_id(site: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"statement/{site}"))


def set_company_override(hub: Hub, company: str | None) -> None:
    hub.dataverse.upsert(
        "bs_actionoverrideses",
        {"bs_name": "GPCompanyNameOverride"},
        {"bs_value": company or "", "bs_isactive": company is not None},
    )


def drain(
    hub: Hub,
    emulator: ServiceBusEmulator,
    settle: Callable[[ServiceBusReceiver, ServiceBusReceivedMessage, PostingRequest | None], None]
    | None = None,
    *,
    workers: int = 12,
    idle_seconds: float = 3,
) -> list[PostingRequest | None]:
    """Receive every ``gp-postings`` message and hand it to the workflow, as the queue's trigger does.

    ``settle`` decides what happens to each message after it was handled
    (default: complete it; a failure to settle abandons it so Service Bus
    delivers it again).
    """
    results: list[PostingRequest | None] = []
    with (
        ServiceBusClient.from_connection_string(emulator.connection_string) as client,
        client.get_queue_receiver(GP_POSTINGS, max_wait_time=idle_seconds) as receiver,
        ThreadPoolExecutor(workers) as pool,
    ):
        while True:
            batch = receiver.receive_messages(max_message_count=50, max_wait_time=idle_seconds)
            if not batch:
                return results

            def work(message: ServiceBusReceivedMessage) -> PostingRequest | None:
                try:
                    return hub.gp_postings.handle(delivery_from_sdk(message, GP_POSTINGS))
                except Exception:  # noqa: BLE001 - as the host does: any failure abandons the message
                    return None

            processed = list(pool.map(work, batch))
            for message, record in zip(batch, processed, strict=True):
                if settle is not None:
                    settle(receiver, message, record)
                elif record is None:
                    receiver.abandon_message(message)
                else:
                    receiver.complete_message(message)
            results.extend(processed)


def billing_day(count: int, first_site: int = 3000) -> list[BillingStatement]:
    """AR, credits (AP), advance billing, parking tax, the 07 and 22 companies, two-invoice statements."""
    built = []
    for n in range(count):
        site = f"{first_site + n:04}"
        kind = n % 6
        gl_string = ("02-03-2106-", "07-01-3100-", "22-04-4100-")[n % 3]
        on = date(2025, 5, 1) if kind == 2 else date(2025, 4, 30)
        lines = (build.line("1200.00", "4791"), build.line("-150.25", ""), build.line("0"))
        invoices = [build.invoice(f"{site}-202504-01-00", *lines, on=on)]
        if kind == 1:
            invoices = [build.invoice(f"{site}-202504-01-00", build.line("-300.00"), on=on)]
        if kind == 3:
            invoices = [
                build.invoice(
                    f"{site}-202504-01-00",
                    *lines,
                    build.line("42.00", "4790", kind="paidParkingTax"),
                    build.line("500.00", "4785", kind="depositedRevenue", taxes_paid="12.50"),
                    on=on,
                )
            ]
        if kind == 5:
            invoices.append(build.invoice(f"{site}-202504-02-00", build.line("-75.10", "4791"), on=on))
        made = build.statement(site, *invoices, gl_string=gl_string, parking_tax=kind == 3)
        built.append(dataclasses.replace(made, statement_id=statement_id(site)))
    return built


def expected(statements: list[BillingStatement]) -> list[GpDocument]:
    return [document for item in statements for document in statement_postings(item).documents]


def seed_chart(gp_sandbox: GpSandbox, documents: list[GpDocument]) -> None:
    for document in documents:
        gp_sandbox.seed(document.company, document.accounts)


def gp_documents(gp_sandbox: GpSandbox) -> list[tuple[str, str, str]]:
    """Every document GP holds: (company, map, number or reference)."""
    held = []
    for company in ("TOWNE", "ENC", "UPP"):
        held += [(company, "RMIMPV2", r[0]) for r in gp_sandbox.rows(company, "SELECT DOCNUMBR FROM RM20101")]
        held += [(company, "PMIMPV2", r[0]) for r in gp_sandbox.rows(company, "SELECT DOCNUMBR FROM PM10000")]
        held += [(company, "GLIMP", r[0]) for r in gp_sandbox.rows(company, "SELECT REFRENCE FROM GL10000")]
    return sorted(held)


def as_held(documents: list[GpDocument]) -> list[tuple[str, str, str]]:
    return sorted((d.company, d.map_id.value, d.document_number) for d in documents)
