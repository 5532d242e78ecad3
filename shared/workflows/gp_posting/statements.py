"""A PowerBill statement read from Dataverse, as Towne Park's GreatPlainsDataTransfer flow gathers it.

The flow starts from ``bs_billingstatement`` and follows its customer site
(site number, GL string, vendor), the site's contract (is Towne Park
responsible for parking tax?), the statement's ``bs_invoice`` rows with their
``bs_invoicedata`` lines, each invoice's group (which overrides site and
vendor), and the active ``GPCompanyNameOverride`` (DOMAIN.md §3 A, §8).

Column names DOMAIN.md states are used as they are. These are **unconfirmed**
(read from the flows' shape, not from Towne Park's schema) and kept in this
module's constants only: the invoice's lookup to its statement
(``_bs_billingstatementfk_value``), to its group (``_bs_invoicegroupfk_value``),
the group's entity set and its site and vendor columns. The hub-proposed
columns it writes back (``bs_gpdocumentnumber``, ``bs_gpbatchid``) are named
here too.

Data the flow would trip over later (no GL string, invoice data that is not
JSON) refuses the whole statement here, naming the row and the field, so
nothing of a half-readable statement reaches GP.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

import orjson

from shared.connectors.dataverse.client import DataverseClient
from shared.workflows.gp_posting.billing import BillingStatement, Invoice, InvoiceLine

BILLING_STATEMENTS = "bs_billingstatements"
STATEMENT_ID = "bs_billingstatementid"
STATEMENT_SITE = "_bs_customersitefk_value"
CUSTOMER_SITES = "bs_customersites"
SITE_ID = "bs_customersiteid"
CONTRACTS = "bs_contracts"
CONTRACT_SITE = "_bs_customersitefk_value"
PARKING_TAX = "bs_towneparkresponsibleforparkingtax"
INVOICES = "bs_invoices"
INVOICE_ID = "bs_invoiceid"
INVOICE_STATEMENT = "_bs_billingstatementfk_value"  # unconfirmed
INVOICE_GROUP = "_bs_invoicegroupfk_value"  # unconfirmed
INVOICE_GROUPS = "bs_invoicegroups"  # unconfirmed
GROUP_ID = "bs_invoicegroupid"
GROUP_SITE = "bs_sitenumber"  # unconfirmed
GROUP_VENDOR = "bs_vendorid"  # unconfirmed
ACTION_OVERRIDES = "bs_actionoverrideses"
COMPANY_OVERRIDE = "GPCompanyNameOverride"
# Written back on each invoice GP accepted: hub-proposed columns (README lists them).
GP_DOCUMENT_NUMBER = "bs_gpdocumentnumber"
GP_BATCH_ID = "bs_gpbatchid"


class StatementRefusedError(Exception):
    """The statement cannot be posted as it stands in Dataverse; ``reason`` names the row and field."""

    def __init__(self, statement_id: str, reason: str) -> None:
        super().__init__(f"statement {statement_id}: {reason}")
        self.statement_id = statement_id
        self.reason = reason


@dataclass(frozen=True)
class StatementToPost:
    """What the statement becomes: one ``BillingStatement`` per site and vendor its invoice groups name
    (usually one), and each invoice's Dataverse id by its GP document number, for the write-back."""

    statement_id: str
    parts: tuple[BillingStatement, ...]
    invoice_ids: Mapping[str, str]


class StatementReader:
    """Reads statements the way the flow does, with one query per table (the sandbox has no ``$expand``)."""

    def __init__(self, dataverse: DataverseClient) -> None:
        self._dataverse = dataverse

    def read(self, statement_id: str) -> StatementToPost:
        """The statement ready for ``statement_postings``, or ``StatementRefusedError`` saying why not."""
        try:
            uuid.UUID(statement_id)
        except ValueError:
            raise StatementRefusedError(statement_id, "is not a bs_billingstatement id (a GUID)") from None
        statement = self._one(
            BILLING_STATEMENTS,
            STATEMENT_ID,
            statement_id,
            (STATEMENT_ID, "bs_serviceperiodstart", STATEMENT_SITE),
        )
        if statement is None:
            raise StatementRefusedError(statement_id, "there is no bs_billingstatement with this id")
        period = _date(statement.get("bs_serviceperiodstart"))
        if period is None:
            raise StatementRefusedError(statement_id, "bs_serviceperiodstart is empty or not a date")
        site_id = str(statement.get(STATEMENT_SITE) or "")
        site = self._one(
            CUSTOMER_SITES, SITE_ID, site_id, (SITE_ID, "bs_sitenumber", "bs_glstring", "bs_vendorid")
        )
        if site is None:
            raise StatementRefusedError(statement_id, f"its customer site ({STATEMENT_SITE}) is missing")
        site_number = str(site.get("bs_sitenumber") or "").strip()
        gl_string = str(site.get("bs_glstring") or "").strip()
        if not site_number:
            raise StatementRefusedError(statement_id, "the customer site has no bs_sitenumber")
        if len(gl_string) < 2:
            raise StatementRefusedError(statement_id, f"customer site {site_number} has no bs_glstring")
        invoices = list(
            self._dataverse.query(
                INVOICES,
                (
                    INVOICE_ID,
                    "bs_invoicenumber",
                    "bs_amount",
                    "bs_invoicedate",
                    "bs_invoicedata",
                    INVOICE_GROUP,
                ),
                f"{INVOICE_STATEMENT} eq {statement_id}",
            )
        )
        if not invoices:
            raise StatementRefusedError(statement_id, "it has no bs_invoice rows")
        base = BillingStatement(
            statement_id=statement_id,
            site_number=site_number,
            gl_string=gl_string,
            vendor_id=str(site.get("bs_vendorid") or "").strip(),
            service_period_start=period,
            invoices=(),
            towne_park_pays_parking_tax=self._pays_parking_tax(site_id),
            company_override=self._company_override(),
        )
        groups = self._groups({row[INVOICE_GROUP] for row in invoices if row.get(INVOICE_GROUP)})
        by_party: dict[tuple[str, str], list[Invoice]] = defaultdict(list)
        invoice_ids: dict[str, str] = {}
        for row in sorted(invoices, key=lambda found: str(found.get("bs_invoicenumber") or "")):
            invoice = _invoice(statement_id, row)
            group = groups.get(str(row.get(INVOICE_GROUP) or ""), {})
            party = (
                str(group.get(GROUP_SITE) or "").strip() or base.site_number,
                str(group.get(GROUP_VENDOR) or "").strip() or base.vendor_id,
            )
            if invoice.amount <= 0 and not party[1]:
                raise StatementRefusedError(
                    statement_id,
                    f"invoice {invoice.invoice_number} is a credit (AP) and site {party[0]} has no bs_vendorid",
                )
            by_party[party].append(invoice)
            invoice_ids[invoice.invoice_number.replace("-", "")] = str(row[INVOICE_ID])
        parts = tuple(
            replace(base, site_number=site, vendor_id=vendor, invoices=tuple(found))
            for (site, vendor), found in by_party.items()
        )
        return StatementToPost(statement_id, parts, invoice_ids)

    def record_posted(self, invoice_id: str, document_number: str, batch_id: str) -> None:
        """Mark the invoice as in GP: its GP document number and batch (update only, never a new row)."""
        self._dataverse.upsert(
            INVOICES,
            {INVOICE_ID: uuid.UUID(invoice_id)},
            {GP_DOCUMENT_NUMBER: document_number, GP_BATCH_ID: batch_id},
            if_match="*",
        )

    def _one(
        self, entity_set: str, id_column: str, row_id: Any, select: Iterable[str]
    ) -> dict[str, Any] | None:
        if not row_id:
            return None
        try:
            uuid.UUID(str(row_id))
        except ValueError:
            return None
        return next(iter(self._dataverse.query(entity_set, tuple(select), f"{id_column} eq {row_id}")), None)

    def _pays_parking_tax(self, site_id: str) -> bool:
        contracts = self._dataverse.query(
            CONTRACTS, ("bs_contractid", PARKING_TAX), f"{CONTRACT_SITE} eq {site_id}"
        )
        return any(row.get(PARKING_TAX) is True for row in contracts)

    def _company_override(self) -> str | None:
        rows = self._dataverse.query(
            ACTION_OVERRIDES,
            ("bs_name", "bs_value", "bs_isactive"),
            f"bs_name eq '{COMPANY_OVERRIDE}' and bs_isactive eq true",
        )
        values = [str(row.get("bs_value") or "").strip() for row in rows]
        return next((value for value in values if value), None)

    def _groups(self, group_ids: set[str]) -> dict[str, dict[str, Any]]:
        if not group_ids:
            return {}
        found = self._dataverse.query(
            INVOICE_GROUPS,
            (GROUP_ID, GROUP_SITE, GROUP_VENDOR),
            " or ".join(f"{GROUP_ID} eq {group_id}" for group_id in sorted(group_ids)),
        )
        return {str(row[GROUP_ID]): row for row in found}


def _invoice(statement_id: str, row: Mapping[str, Any]) -> Invoice:
    number = str(row.get("bs_invoicenumber") or "").strip()
    if not number:
        raise StatementRefusedError(statement_id, f"invoice {row.get(INVOICE_ID)} has no bs_invoicenumber")
    amount = _decimal(row.get("bs_amount"))
    if amount is None:
        raise StatementRefusedError(statement_id, f"invoice {number}: bs_amount is empty or not a number")
    invoice_date = _date(row.get("bs_invoicedate"))
    if invoice_date is None:
        raise StatementRefusedError(statement_id, f"invoice {number}: bs_invoicedate is empty or not a date")
    return Invoice(number, amount, invoice_date, _lines(statement_id, number, row.get("bs_invoicedata")))


def _lines(statement_id: str, number: str, data: Any) -> tuple[InvoiceLine, ...]:
    """``bs_invoicedata``: ``[{title, description, code, amount, metaData{lineItemType, taxesPaid}}]``."""
    try:
        entries = orjson.loads(data) if isinstance(data, str | bytes) else None
    except orjson.JSONDecodeError:
        entries = None
    if not isinstance(entries, list) or not all(isinstance(entry, dict) for entry in entries):
        raise StatementRefusedError(
            statement_id, f"invoice {number}: bs_invoicedata is not a JSON list of invoice lines"
        )
    lines = []
    for position, entry in enumerate(entries, start=1):
        amount = _decimal(entry.get("amount"))
        meta = entry.get("metaData") if isinstance(entry.get("metaData"), dict) else {}
        taxes = _decimal(meta.get("taxesPaid")) if meta.get("taxesPaid") not in (None, "") else Decimal(0)
        if amount is None or taxes is None:
            raise StatementRefusedError(
                statement_id, f"invoice {number}: bs_invoicedata line {position} has no numeric amount"
            )
        lines.append(
            InvoiceLine(
                title=str(entry.get("title") or ""),
                code=str(entry.get("code") or "").strip(),
                amount=amount,
                line_item_type=meta.get("lineItemType") or None,
                taxes_paid=taxes,
            )
        )
    return tuple(lines)


def _decimal(value: Any) -> Decimal | None:
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def _date(value: Any) -> date | None:
    """Date-only columns come as ``2025-04-01``; date-time ones as ``2025-04-01T00:00:00Z`` (the day is kept)."""
    if not isinstance(value, str) or len(value) < 10:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None
