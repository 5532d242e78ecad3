"""Billing reported to the EDW: Dataverse's statements, invoices, lines and GP postings copied into ``TP_STAGE``.

Incremental by ``modifiedon``: each table's cursor is the newest
``MODIFIED_ON`` it already holds, so the cursor and the data commit together
(STYLE.md, dlt: "commit the cursor and the data together"). Rows are read
from the cursor on (``ge``: a row changed in the cursor's second is read
again, and rewriting a row is harmless), sorted by ``modifiedon`` and
written in chunks, each one transaction that deletes the chunk's keys and
inserts its rows, so a failure part-way leaves a cursor that resumes where the
last chunk ended. An invoice's lines are replaced with it. Payment status
arrives on the invoice (the payment-status sync changes its ``modifiedon``).

GP postings come from ``bs_glrequestlog``: the document number, batch, map
and company are read from the request's ``<DataSet>`` (``smartconnect.envelope``
writes it), the outcome from ``bs_requeststatus``. Rows deleted in Dataverse
are not removed here: ``modifiedon`` cannot show a delete, so a statement
PowerBill replaces by a new row leaves its old one behind (README says so).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import orjson
from defusedxml import ElementTree as SafeET
from sqlalchemy import Engine, Table, delete, func, insert, select

from shared.connectors.dataverse.client import DataverseClient
from shared.sql.billing_reporting import billing_invoice, billing_invoice_line, billing_statement, gp_posting
from shared.workflows.billing.powerbill import REQUEST_STATUSES, STATEMENT_STATUSES
from shared.workflows.gp_posting import statements as columns
from shared.workflows.gp_posting.audit import GL_REQUEST_LOGS

CHUNK_ROWS = 500
_SERVICE_NS = "{http://tempuri.org/}"
_DOCUMENT_FIELDS = ("DocumentNumber", "DOCNUMBR", "REFRENCE")
_BATCH_FIELDS = ("BatchID", "BATCHID", "BACHNUMB")
_COMPANY_FIELDS = ("COMP", "COMPANY")

Row = dict[str, Any]


@dataclass(frozen=True)
class _Copy:
    """One Dataverse table copied into one EDW table: what to select and how a row becomes EDW rows."""

    entity_set: str
    select: tuple[str, ...]
    target: Table
    key: str
    rows: Callable[[Sequence[Row]], list[Row]]
    lines: Callable[[Sequence[Row]], list[Row]] | None = None


class BillingReporting:
    """Copies what changed in Dataverse since each table's cursor into the EDW's billing tables."""

    def __init__(self, dataverse: DataverseClient, edw: Engine, chunk_rows: int = CHUNK_ROWS) -> None:
        self._dataverse = dataverse
        self._edw = edw
        self._chunk_rows = chunk_rows

    def run(self) -> dict[str, int]:
        """Rows written per EDW table this run."""
        copies = (
            _Copy(
                columns.BILLING_STATEMENTS,
                (columns.STATEMENT_ID, columns.STATEMENT_SITE, "bs_serviceperiodstart",
                 "bs_statementversionnumber", "bs_statementstatus", "modifiedon"),
                billing_statement,
                "STATEMENT_ID",
                self._statement_rows,
            ),
            _Copy(
                columns.INVOICES,
                (columns.INVOICE_ID, "bs_invoicenumber", columns.INVOICE_STATEMENT, "bs_invoicedate",
                 "bs_amount", "bs_invoicedata", columns.GP_DOCUMENT_NUMBER, columns.GP_BATCH_ID,
                 "bs_gppaymentstatus", "bs_gpamountdue", "bs_gpamountpaid", "modifiedon"),
                billing_invoice,
                "INVOICE_ID",
                lambda rows: [invoice_row(row) for row in rows],
                lambda rows: [line for row in rows for line in invoice_lines(row)],
            ),
            _Copy(
                GL_REQUEST_LOGS,
                ("bs_glrequestlogid", "bs_sitenumber", "bs_requestxml", "bs_requeststatus", "createdon",
                 "modifiedon"),
                gp_posting,
                "REQUEST_LOG_ID",
                lambda rows: [posting_row(row) for row in rows],
            ),
        )  # fmt: skip
        return {copy.target.name: self._copy(copy) for copy in copies}

    def _copy(self, copy: _Copy) -> int:
        cursor = self._cursor(copy.target)
        terms = f"modifiedon ge {cursor:%Y-%m-%dT%H:%M:%SZ}" if cursor else None
        changed = sorted(self._dataverse.query(copy.entity_set, copy.select, terms), key=_modified_on)
        written = 0
        for start in range(0, len(changed), self._chunk_rows):
            chunk = changed[start : start + self._chunk_rows]
            rows = copy.rows(chunk)
            keys = [row[copy.key] for row in rows]
            with self._edw.begin() as connection:
                connection.execute(delete(copy.target).where(copy.target.c[copy.key].in_(keys)))
                connection.execute(insert(copy.target), rows)
                if copy.lines is not None:
                    line_table = billing_invoice_line
                    connection.execute(delete(line_table).where(line_table.c.INVOICE_ID.in_(keys)))
                    lines = copy.lines(chunk)
                    if lines:
                        connection.execute(insert(line_table), lines)
            written += len(rows)
        return written

    def _cursor(self, target: Table) -> datetime | None:
        with self._edw.connect() as connection:
            newest = connection.execute(select(func.max(target.c.MODIFIED_ON))).scalar_one_or_none()
        if newest is None:
            return None
        moment = newest if isinstance(newest, datetime) else datetime.fromisoformat(str(newest))
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)

    def _statement_rows(self, rows: Sequence[Row]) -> list[Row]:
        site_ids = sorted({str(row.get(columns.STATEMENT_SITE) or "") for row in rows} - {""})
        numbers = self._site_numbers(site_ids)
        return [statement_row(row, numbers.get(str(row.get(columns.STATEMENT_SITE) or ""))) for row in rows]

    def _site_numbers(self, site_ids: Sequence[str]) -> dict[str, str]:
        numbers: dict[str, str] = {}
        for start in range(0, len(site_ids), 40):
            terms = " or ".join(f"{columns.SITE_ID} eq {site_id}" for site_id in site_ids[start : start + 40])
            for row in self._dataverse.query(
                columns.CUSTOMER_SITES, (columns.SITE_ID, "bs_sitenumber"), terms
            ):
                numbers[str(row[columns.SITE_ID])] = str(row.get("bs_sitenumber") or "").strip()
        return numbers


def statement_row(row: Mapping[str, Any], site_number: str | None) -> Row:
    status = row.get("bs_statementstatus")
    return {
        "STATEMENT_ID": str(row[columns.STATEMENT_ID]),
        "SITE_NUMBER": site_number or None,
        "SERVICE_PERIOD_START": _date(row.get("bs_serviceperiodstart")),
        "VERSION_NUMBER": row.get("bs_statementversionnumber"),
        "STATUS": status,
        "STATUS_NAME": STATEMENT_STATUSES.get(int(status)) if status is not None else None,
        "MODIFIED_ON": _modified_on(row),
    }


def invoice_row(row: Mapping[str, Any]) -> Row:
    return {
        "INVOICE_ID": str(row[columns.INVOICE_ID]),
        "INVOICE_NUMBER": row.get("bs_invoicenumber"),
        "STATEMENT_ID": _text(row.get(columns.INVOICE_STATEMENT)),
        "INVOICE_DATE": _date(row.get("bs_invoicedate")),
        "AMOUNT": _money(row.get("bs_amount")),
        "GP_DOCUMENT_NUMBER": _text(row.get(columns.GP_DOCUMENT_NUMBER)),
        "GP_BATCH_ID": _text(row.get(columns.GP_BATCH_ID)),
        "GP_PAYMENT_STATUS": _text(row.get("bs_gppaymentstatus")),
        "GP_AMOUNT_DUE": _money(row.get("bs_gpamountdue")),
        "GP_AMOUNT_PAID": _money(row.get("bs_gpamountpaid")),
        "MODIFIED_ON": _modified_on(row),
    }


def invoice_lines(row: Mapping[str, Any]) -> list[Row]:
    """``bs_invoicedata``'s entries (``[{title, code, amount, metaData{lineItemType}}]``); none when unreadable."""
    try:
        entries = orjson.loads(row.get("bs_invoicedata") or "[]")
    except orjson.JSONDecodeError:
        return []
    if not isinstance(entries, list):
        return []
    return [
        {
            "INVOICE_ID": str(row[columns.INVOICE_ID]),
            "LINE_NUMBER": number,
            "TITLE": _text(entry.get("title")),
            "CODE": _text(entry.get("code")),
            "AMOUNT": _money(entry.get("amount")),
            "LINE_ITEM_TYPE": _text((entry.get("metaData") or {}).get("lineItemType")),
        }
        for number, entry in enumerate(entries, start=1)
        if isinstance(entry, dict)
    ]


def posting_row(row: Mapping[str, Any]) -> Row:
    request = request_fields(str(row.get("bs_requestxml") or ""))
    status = row.get("bs_requeststatus")
    return {
        "REQUEST_LOG_ID": str(row["bs_glrequestlogid"]),
        "SITE_NUMBER": _text(row.get("bs_sitenumber")),
        "MAP_ID": request.get("map"),
        "COMPANY": request.get("company"),
        "DOCUMENT_NUMBER": request.get("document"),
        "BATCH_ID": request.get("batch"),
        "OUTCOME": REQUEST_STATUSES.get(int(status)) if status is not None else None,
        "REQUESTED_ON": _moment(row.get("createdon")),
        "MODIFIED_ON": _modified_on(row),
    }


def request_fields(request_xml: str) -> dict[str, str]:
    """Map, company, document and batch of a ``RunMapDataTable`` request (its first ``<Table>``)."""
    try:
        envelope = SafeET.fromstring(request_xml)
        call = next(envelope.iter(f"{_SERVICE_NS}RunMapDataTable"))
        dataset = SafeET.fromstring(call.findtext(f"{_SERVICE_NS}xml") or "")
    except (ET.ParseError, StopIteration):
        return {}
    first = dataset.find("Table")
    found = {"map": (call.findtext(f"{_SERVICE_NS}mapID") or "").strip()}
    if first is not None:
        for name, fields in (
            ("document", _DOCUMENT_FIELDS),
            ("batch", _BATCH_FIELDS),
            ("company", _COMPANY_FIELDS),
        ):
            found[name] = next((value for f in fields if (value := (first.findtext(f) or "").strip())), "")
    return {name: value for name, value in found.items() if value}


def _modified_on(row: Mapping[str, Any]) -> datetime:
    moment = _moment(row.get("modifiedon"))
    if moment is None:
        raise ValueError(f"a Dataverse row without modifiedon: {sorted(row)}")
    return moment


def _moment(value: object) -> datetime | None:
    if not value:
        return None
    return datetime.fromisoformat(str(value).replace("Z", "+00:00")).astimezone(UTC).replace(tzinfo=None)


def _date(value: object) -> date | None:
    return date.fromisoformat(str(value)[:10]) if value else None


def _money(value: object) -> Decimal | None:
    return None if value is None else Decimal(str(value)).quantize(Decimal("0.01"))


def _text(value: object) -> str | None:
    text = str(value).strip() if value is not None else ""
    return text or None
