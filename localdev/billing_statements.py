"""A month of PowerBill billing statements in the local Dataverse, so a maker can post them to sandbox GP.

``python -m localdev statements`` writes statements the way Towne Park's
tables hold them and ``StatementReader`` reads them: a ``bs_billingstatement``
for the service month, its ``bs_customersite`` (site number, GL string,
vendor), the site's ``bs_contract`` (parking tax) and its ``bs_invoice`` rows
with their ``bs_invoicedata`` lines.

Sites come from the EDW the hub's settings point at (``MASTER_NON_FINANCIAL``,
the sandbox SQL world under ``make run``), and a site is used only when every
account its statement posts to is in its GP company's chart (the chart
``make run`` seeds from the same world), so each statement posts cleanly. The
mix covers DOMAIN.md §3 A: receivables invoices, a credit (payables), an
advance-billing invoice (dated the 1st, revenue deferred), a statement with
parking tax, and one site each of ENC (GL ``07-``) and UPP (``22-``) when the
world has them.

Ids are derived from site and month (customer sites and invoices from their
alternate keys), so running it again updates the same rows, never duplicates.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any

import orjson
from sqlalchemy import Engine, select

from shared.connectors.dataverse.batch import BatchOperation
from shared.connectors.dataverse.client import DataverseClient
from shared.errors import HubError
from shared.sites import site_number
from shared.sql.engines import stream_rows
from shared.sql.tables import master_non_financial
from shared.workflows.gp_posting import statements as columns
from shared.workflows.gp_posting.billing import (
    COMPANY_BY_GL_PREFIX,
    DEFAULT_COMPANY,
    DEPOSITED_REVENUE_LINE,
    PARKING_TAX_LINE,
    BillingStatement,
    Invoice,
    InvoiceLine,
    company_of,
    statement_postings,
)

DEFAULT_COUNT = 12
# Statement ids (and new customer sites' ids) are uuid5 names here, so a second run finds the same rows.
ID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://townepark.com/integration-hub/localdev/statements")
# A Dataverse $batch holds at most 1000 operations; a few hundred keeps each answer quick.
BATCH_OPERATIONS = 300


class StatementKind(StrEnum):
    """What the statement shows in GP (DOMAIN.md §3 A)."""

    RECEIVABLE = "AR invoice"
    CREDIT = "credit (AP)"
    ADVANCE_BILLING = "advance billing (AR, deferred)"
    PARKING_TAX = "AR + parking tax journal"


# Position n gets KIND_CYCLE[n % 4]; positions 1 and 2 go to an ENC and a UPP site when the world has them.
KIND_CYCLE = (
    StatementKind.RECEIVABLE,
    StatementKind.CREDIT,
    StatementKind.ADVANCE_BILLING,
    StatementKind.PARKING_TAX,
)
COMPANY_AT_POSITION: Mapping[int, str] = {1: "ENC", 2: "UPP"}


@dataclass(frozen=True)
class SeededStatement:
    """A statement written to Dataverse, with what it should become in GP."""

    statement: BillingStatement
    kind: StatementKind

    @property
    def statement_id(self) -> str:
        return self.statement.statement_id

    @property
    def company(self) -> str:
        return company_of(self.statement)


def last_month(today: date) -> date:
    """The first day of the month before ``today``'s: the service month a billing run closes."""
    return (today.replace(day=1) - timedelta(days=1)).replace(day=1)


def statement_id(site: str, month: date) -> str:
    return str(uuid.uuid5(ID_NAMESPACE, f"billing-statement/{site}/{month:%Y-%m}"))


def world_sites(edw: Engine) -> list[tuple[str, str]]:
    """(site number, GL string) of every EDW master site with a GL string, by site number."""
    query = select(master_non_financial.c.SITE, master_non_financial.c.GL_STRING)
    sites = {}
    for page in stream_rows(edw, query, 5000):
        for row in page:
            number, gl_string = site_number(row["SITE"]), str(row["GL_STRING"] or "").strip()
            if number is not None and len(gl_string) >= 2:
                sites[number] = gl_string
    return sorted(sites.items())


def month_statement(
    site: str, gl_string: str, kind: StatementKind, month: date, company_override: str | None = None
) -> BillingStatement:
    """The site's statement for ``month``: one invoice dated the month's last day (advance billing: the 1st after)."""
    seed = int(site) % 97
    fee = Decimal(1200 + 25 * seed).quantize(Decimal("0.01"))
    month_end = (month.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    invoice_date = month_end
    # A credit line and a zero line (which the flow leaves out of GP), as PowerBill invoices often carry.
    lines: tuple[InvoiceLine, ...] = (
        InvoiceLine("Management fee", "4791", fee),
        InvoiceLine("Validation adjustment", "4791", Decimal("-150.25")),
        InvoiceLine("Revenue share", "", Decimal(0)),
    )
    if kind is StatementKind.CREDIT:
        lines = (InvoiceLine("Revenue share credit", "4790", Decimal(-300 - seed)),)
    if kind is StatementKind.ADVANCE_BILLING:
        invoice_date = month_end + timedelta(days=1)
    if kind is StatementKind.PARKING_TAX:
        lines += (
            InvoiceLine("Parking tax", "4790", Decimal("42.00"), PARKING_TAX_LINE),
            InvoiceLine(
                "Deposited revenue", "4785", Decimal("500.00"), DEPOSITED_REVENUE_LINE, Decimal("12.50")
            ),
        )
    invoice = Invoice(
        invoice_number=f"{site}-{month:%Y%m}-01-00",
        amount=sum((line.amount for line in lines), Decimal(0)),
        invoice_date=invoice_date,
        lines=lines,
    )
    return BillingStatement(
        statement_id=statement_id(site, month),
        site_number=site,
        gl_string=gl_string,
        vendor_id=f"V{site}",
        service_period_start=month,
        invoices=(invoice,),
        towne_park_pays_parking_tax=kind is StatementKind.PARKING_TAX,
        company_override=company_override,
    )


def choose_statements(
    sites: Iterable[tuple[str, str]],
    count: int,
    month: date,
    chart: Callable[[str], frozenset[str]],
    company_override: str | None = None,
) -> list[SeededStatement]:
    """Up to ``count`` statements on sites whose accounts ``chart(company)`` holds, in the kinds' cycle.

    A site whose statement would post to an account missing from its
    company's chart is passed over, so every chosen statement posts.
    """
    pools: dict[str, list[tuple[str, str]]] = {}
    for site, gl_string in sites:
        company = COMPANY_BY_GL_PREFIX.get(gl_string[:2], DEFAULT_COMPANY)
        pools.setdefault(company, []).append((site, gl_string))
    charts: dict[str, frozenset[str]] = {}

    def posts_cleanly(statement: BillingStatement) -> bool:
        postings = statement_postings(statement)
        if postings.refused or not postings.documents:
            return False
        for document in postings.documents:
            if document.company not in charts:
                charts[document.company] = chart(document.company)
            if not document.accounts <= charts[document.company]:
                return False
        return True

    chosen: list[SeededStatement] = []
    for position in range(count):
        kind = KIND_CYCLE[position % len(KIND_CYCLE)]
        wanted = COMPANY_AT_POSITION.get(position, DEFAULT_COMPANY)
        made: BillingStatement | None = None
        for company in dict.fromkeys((wanted, DEFAULT_COMPANY, *pools)):
            pool = pools.get(company, [])
            while pool and made is None:
                site, gl_string = pool.pop(0)
                candidate = month_statement(site, gl_string, kind, month, company_override)
                made = candidate if posts_cleanly(candidate) else None
            if made is not None:
                break
        if made is None:
            break
        chosen.append(SeededStatement(made, kind))
    return chosen


def active_company_override(dataverse: DataverseClient) -> str | None:
    """The active ``GPCompanyNameOverride``: when set, every statement posts to that company."""
    rows = dataverse.query(
        columns.ACTION_OVERRIDES,
        ("bs_name", "bs_value", "bs_isactive"),
        f"bs_name eq '{columns.COMPANY_OVERRIDE}' and bs_isactive eq true",
    )
    values = [str(row.get("bs_value") or "").strip() for row in rows]
    return next((value for value in values if value), None)


def write_statements(dataverse: DataverseClient, seeded: Iterable[SeededStatement]) -> None:
    """Upsert each statement with its customer site, contract and invoices (``$batch``es, site rows first)."""
    statements = [item.statement for item in seeded]
    site_ids = _customer_site_ids(dataverse, [statement.site_number for statement in statements])
    sites: list[BatchOperation] = []
    rest: list[BatchOperation] = []
    for statement in statements:
        site_id = site_ids[statement.site_number]
        sites.append(
            dataverse.upsert_operation(
                columns.CUSTOMER_SITES,
                {columns.SITE_ID: site_id},
                {
                    "bs_sitenumber": statement.site_number,
                    "bs_glstring": statement.gl_string,
                    "bs_vendorid": statement.vendor_id,
                },
            )
        )
        rest.extend(_statement_rows(dataverse, statement, site_id))
    # Contracts are keyed by their site: the site rows must exist before them.
    for operations in (sites, rest):
        for start in range(0, len(operations), BATCH_OPERATIONS):
            answers = dataverse.execute_batch(operations[start : start + BATCH_OPERATIONS], idempotent=True)
            failed = [answer.status for answer in answers if answer.status >= 300]
            if failed or len(answers) < len(operations[start : start + BATCH_OPERATIONS]):
                raise HubError(f"Dataverse refused billing statement rows (statuses {failed})")


def _customer_site_ids(dataverse: DataverseClient, numbers: list[str]) -> dict[str, uuid.UUID]:
    """The existing customer site's id for each site number, else one derived from the number."""
    ids = {number: uuid.uuid5(ID_NAMESPACE, f"customer-site/{number}") for number in numbers}
    for start in range(0, len(numbers), 50):
        terms = " or ".join(f"bs_sitenumber eq '{number}'" for number in numbers[start : start + 50])
        for row in dataverse.query(columns.CUSTOMER_SITES, (columns.SITE_ID, "bs_sitenumber"), terms):
            ids[str(row["bs_sitenumber"])] = uuid.UUID(str(row[columns.SITE_ID]))
    return ids


def _statement_rows(
    dataverse: DataverseClient, statement: BillingStatement, site_id: uuid.UUID
) -> list[BatchOperation]:
    rows = [
        dataverse.upsert_operation(
            columns.CONTRACTS,
            {columns.CONTRACT_SITE: site_id},
            {columns.PARKING_TAX: statement.towne_park_pays_parking_tax},
        ),
        dataverse.upsert_operation(
            columns.BILLING_STATEMENTS,
            {columns.STATEMENT_ID: uuid.UUID(statement.statement_id)},
            {
                "bs_serviceperiodstart": statement.service_period_start.isoformat(),
                columns.STATEMENT_SITE: str(site_id),
            },
        ),
    ]
    for invoice in statement.invoices:
        rows.append(
            dataverse.upsert_operation(
                columns.INVOICES,
                {"bs_invoicenumber": invoice.invoice_number},
                {
                    "bs_amount": float(invoice.amount),
                    "bs_invoicedate": invoice.invoice_date.isoformat(),
                    "bs_invoicedata": invoice_data(invoice),
                    columns.INVOICE_STATEMENT: statement.statement_id,
                },
            )
        )
    return rows


def invoice_data(invoice: Invoice) -> str:
    """``bs_invoicedata`` as PowerBill writes it: ``[{title, description, code, amount, metaData}]``."""
    entries: list[dict[str, Any]] = [
        {
            "title": line.title,
            "description": line.title,
            "code": line.code,
            "amount": float(line.amount),
            "metaData": {"lineItemType": line.line_item_type, "taxesPaid": float(line.taxes_paid)},
        }
        for line in invoice.lines
    ]
    return orjson.dumps(entries).decode()


def seed_billing_statements(
    dataverse: DataverseClient,
    edw: Engine,
    chart: Callable[[str], frozenset[str]],
    count: int = DEFAULT_COUNT,
    month: date | None = None,
) -> list[SeededStatement]:
    """Choose and write ``count`` statements for ``month`` (default: last month); returns what was written."""
    seeded = choose_statements(
        world_sites(edw),
        count,
        month or last_month(date.today()),
        chart,
        active_company_override(dataverse),
    )
    write_statements(dataverse, seeded)
    return seeded


def posting_command(statement: str, host: str) -> str:
    """The curl that asks the hub to post the statement to GP (it answers 202 with a Location to poll)."""
    body = orjson.dumps({"statementId": statement}).decode()
    return (
        f"curl -X POST -H \"x-functions-key: $LOCAL_FUNCTION_KEY\" -H 'Content-Type: application/json' "
        f"-d '{body}' {host}/api/v1/gp/postings"
    )


def describe(seeded: SeededStatement) -> str:
    """One line: statement id, site, company, kind."""
    statement = seeded.statement
    return f"{statement.statement_id}  site {statement.site_number} ({seeded.company})  {seeded.kind}"
