"""What PowerBill holds in Dataverse for a billing month: sites, contracts, RSS submissions, statements, invoices.

Read with one query per table and ``or``-joined ids in chunks (the sandbox has
no ``$expand``), as ``StatementReader`` does. Column names are DOMAIN.md §7-§8's;
the lookups and the hub-proposed GP columns are those of
``shared/workflows/gp_posting/statements.py``. ``cr9e8_period`` is matched in
both spellings Towne Park uses for a month, ``yyyy-MM`` and ``yyyyMM``
(DOMAIN.md §10.1), since which one the RSS flows write is not known.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from shared.connectors.dataverse.client import DataverseClient
from shared.workflows.gp_posting import statements as columns
from shared.workflows.gp_posting.audit import GL_REQUEST_LOGS, REQUEST_FAIL, REQUEST_PENDING, REQUEST_SUCCESS

READY_FOR_INVOICES = "cr9e8_readyforinvoices"
READY_FOR_INVOICE = "Ready for Invoice"
ARREARS = 126840001  # bs_billingtype (DOMAIN.md §7)
SENT = 126840003  # bs_statementstatus SENT
STATEMENT_STATUSES = {
    126840000: "GENERATING",
    126840001: "NEEDS_REVIEW",
    126840002: "APPROVED",
    126840003: "SENT",
    126840004: "AR_REVIEW",
    126840005: "APPROVAL_TEAM",
    126840006: "READY_TO_SEND",
    126840007: "FAILED",
}
REQUEST_STATUSES = {REQUEST_SUCCESS: "success", REQUEST_FAIL: "fail", REQUEST_PENDING: "pending"}
_CHUNK = 40  # ids per ``or`` filter: keeps each query's URL short


@dataclass(frozen=True)
class Site:
    """A ``bs_customersite`` with what billing needs of it."""

    id: str
    number: str
    name: str
    gl_string: str
    billing_email: str
    closed_on: date | None


@dataclass(frozen=True)
class Contract:
    site_id: str
    arrears: bool


@dataclass(frozen=True)
class AuditEntry:
    """One ``bs_glrequestlog`` row: a request sent to SmartConnect and how it ended."""

    site_number: str
    request_xml: str
    status: str  # pending, success or fail
    created_on: str

    def names(self, document_number: str) -> bool:
        """Whether the request carried this GP document (its number is in the request's data table)."""
        return bool(document_number) and document_number in self.request_xml


@dataclass(frozen=True)
class PowerBillInvoice:
    """A ``bs_invoice`` of a month's statement, with its statement's site and status."""

    statement_id: str
    statement_status: int | None
    site_number: str
    invoice_number: str
    amount: Decimal
    gp_document_number: str

    @property
    def sent(self) -> bool:
        """Sent to GP: the statement is SENT, or GP accepted the invoice and the hub wrote its number back."""
        return self.statement_status == SENT or bool(self.gp_document_number)


def month_start(period: str) -> date:
    """The first day of ``yyyy-MM``."""
    year, month = period.split("-")
    return date(int(year), int(month), 1)


class PowerBillReader:
    """Dataverse reads for one month's readiness and reconciliation."""

    def __init__(self, dataverse: DataverseClient) -> None:
        self._dataverse = dataverse

    def sites(self, numbers: Sequence[str] = ()) -> list[Site]:
        """Every customer site (or only ``numbers``), by site number."""
        select = (columns.SITE_ID, "bs_sitenumber", "bs_sitename", "bs_glstring", "bs_billingcontactemail")
        rows: Iterable[dict[str, Any]]
        if numbers:
            rows = self._chunked(columns.CUSTOMER_SITES, (*select, "bs_closedate"), "bs_sitenumber", numbers)
        else:
            rows = self._dataverse.query(columns.CUSTOMER_SITES, (*select, "bs_closedate"))
        sites = [
            Site(
                id=str(row[columns.SITE_ID]),
                number=str(row.get("bs_sitenumber") or "").strip(),
                name=str(row.get("bs_sitename") or "").strip(),
                gl_string=str(row.get("bs_glstring") or "").strip(),
                billing_email=str(row.get("bs_billingcontactemail") or "").strip(),
                closed_on=_date(row.get("bs_closedate")),
            )
            for row in rows
        ]
        return sorted((site for site in sites if site.number), key=lambda site: site.number)

    def contracts(self, site_ids: Sequence[str]) -> dict[str, Contract]:
        """Each site's contract by site id (one per site: the key ``bs_customersitefk``)."""
        rows = self._chunked(
            columns.CONTRACTS,
            (columns.CONTRACT_SITE, "bs_billingtype"),
            columns.CONTRACT_SITE,
            site_ids,
            quoted=False,
        )
        return {
            str(row[columns.CONTRACT_SITE]): Contract(
                str(row[columns.CONTRACT_SITE]), row.get("bs_billingtype") == ARREARS
            )
            for row in rows
        }

    def ready_submissions(self, period: str) -> set[str]:
        """Site numbers with an RSS submission 'Ready for Invoice' for the month."""
        first = month_start(period)
        terms = f"cr9e8_period eq '{first:%Y-%m}' or cr9e8_period eq '{first:%Y%m}'"
        rows = self._dataverse.query(READY_FOR_INVOICES, ("cr9e8_site", "cr9e8_invoicestatus"), terms)
        return {
            str(row.get("cr9e8_site") or "").strip().zfill(4)
            for row in rows
            if str(row.get("cr9e8_invoicestatus") or "").strip() == READY_FOR_INVOICE
        }

    def invoices(self, period: str) -> list[PowerBillInvoice]:
        """Every invoice of the month's statements (``bs_serviceperiodstart`` the month's first day)."""
        first = month_start(period)
        statements = list(
            self._dataverse.query(
                columns.BILLING_STATEMENTS,
                (columns.STATEMENT_ID, columns.STATEMENT_SITE, "bs_statementstatus"),
                f"bs_serviceperiodstart eq {first.isoformat()}",
            )
        )
        site_ids = sorted({str(row.get(columns.STATEMENT_SITE) or "") for row in statements} - {""})
        numbers = {
            str(row[columns.SITE_ID]): str(row.get("bs_sitenumber") or "").strip()
            for row in self._chunked(
                columns.CUSTOMER_SITES,
                (columns.SITE_ID, "bs_sitenumber"),
                columns.SITE_ID,
                site_ids,
                quoted=False,
            )
        }
        by_id = {str(row[columns.STATEMENT_ID]): row for row in statements}
        invoices = self._chunked(
            columns.INVOICES,
            ("bs_invoicenumber", "bs_amount", columns.INVOICE_STATEMENT, columns.GP_DOCUMENT_NUMBER),
            columns.INVOICE_STATEMENT,
            sorted(by_id),
            quoted=False,
        )
        found = []
        for row in invoices:
            statement = by_id[str(row[columns.INVOICE_STATEMENT])]
            status = statement.get("bs_statementstatus")
            found.append(
                PowerBillInvoice(
                    statement_id=str(statement[columns.STATEMENT_ID]),
                    statement_status=int(status) if status is not None else None,
                    site_number=numbers.get(str(statement.get(columns.STATEMENT_SITE) or ""), ""),
                    invoice_number=str(row.get("bs_invoicenumber") or "").strip(),
                    amount=Decimal(str(row.get("bs_amount") or 0)).quantize(Decimal("0.01")),
                    gp_document_number=str(row.get(columns.GP_DOCUMENT_NUMBER) or "").strip(),
                )
            )
        return sorted(found, key=lambda invoice: (invoice.site_number, invoice.invoice_number))

    def audit_entries(self, site_numbers: Sequence[str]) -> list[AuditEntry]:
        """The ``bs_glrequestlog`` rows of these sites: every SmartConnect request the hub (or the flow) sent."""
        rows = self._chunked(
            GL_REQUEST_LOGS,
            ("bs_sitenumber", "bs_requestxml", "bs_requeststatus", "createdon"),
            "bs_sitenumber",
            site_numbers,
        )
        return [
            AuditEntry(
                site_number=str(row.get("bs_sitenumber") or "").strip(),
                request_xml=str(row.get("bs_requestxml") or ""),
                status=REQUEST_STATUSES.get(int(row.get("bs_requeststatus") or REQUEST_PENDING), "pending"),
                created_on=str(row.get("createdon") or ""),
            )
            for row in rows
        ]

    def _chunked(
        self, entity_set: str, select: Sequence[str], column: str, values: Sequence[str], quoted: bool = True
    ) -> Iterator[dict[str, Any]]:
        for start in range(0, len(values), _CHUNK):
            chunk = values[start : start + _CHUNK]
            terms = " or ".join(
                f"{column} eq '{value}'" if quoted else f"{column} eq {value}" for value in chunk
            )
            yield from self._dataverse.query(entity_set, select, terms)


def _date(value: object) -> date | None:
    if not value:
        return None
    return date.fromisoformat(str(value)[:10])
