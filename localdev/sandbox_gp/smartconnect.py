"""The SmartConnect double: applies a ``RunMapDataTable`` call as GP would, or refuses it with GP's reason.

What it enforces, because GP does: the three map ids, a known interID and
company, a batch id no longer than the configured limit (GP's ``BACHNUMB`` is
15 characters; whether today's SmartConnect map shortens longer ids is not
known, so the limit is an option), accounts that exist in the chart, debits
equal to credits unless every account is a unit account, a document date in
an open fiscal period of the map's series, and no document number twice. Accepted documents are written to the company's tables in one
transaction. The reply's ``RunMapDataTableResult`` uses the field names of
eOne's ``RunMapResponse``; the real SOAP result shape is unconfirmed.

Admin endpoints make it misbehave the ways the hub must survive: refuse with a
SOAP fault, accept and then not answer in time, or be unreachable (502, as the
relay answers when no listener is connected). ``POST /admin/mode`` takes
``{"mode", "times", "seconds", "holdSeconds"}``: a mode other than normal lasts
for ``times`` calls or ``seconds`` of wall time, whichever ends first, or until
the next switch when neither is given. ``/admin/faults`` arms 429s, 503s and
dropped connections by count or seeded share (see ``faults``).
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
import xml.etree.ElementTree as ET
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from defusedxml import ElementTree as SafeET
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from localdev.dropped_connection import drop_connection
from localdev.sandbox_gp.company import (
    UNIT_ACCOUNT,
    PaymentRefusedError,
    apply_payment,
    known_companies,
    open_company,
    period_refusal,
)
from localdev.sandbox_gp.faults import DROPPED, DROPPED_AFTER_APPLY, GpFaults
from shared.connectors.great_plains.chart import Series

SOAP_NS = "http://schemas.xmlsoap.org/soap/envelope/"
SERVICE_NS = "http://tempuri.org/"
MODES = ("normal", "fail", "timeout_after_accept", "down")
DEFAULT_PATH = "/SmartConnect.asmx"
# Each map's series and the row column holding its document date (MM/dd/yyyy, as the flows send it).
SERIES_AND_DATE = {
    "RMIMPV2": (Series.SALES, "PostingDate"),
    "PMIMPV2": (Series.PURCHASING, "TRXDATE"),
    "GLIMP": (Series.FINANCIAL, "TRXDATE"),
}


class MapRejectedError(Exception):
    """GP refused the documents; the message is what SmartConnect would report."""


@dataclass
class SandboxState:
    folder: Path
    batch_id_limit: int | None
    hold_seconds: float = 5.0
    mode: str = "normal"
    mode_calls_left: int | None = None
    mode_until: float | None = None  # time.monotonic() at which the mode ends by itself
    calls: int = 0
    accepted: int = 0
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    faults: GpFaults = field(default_factory=GpFaults)

    def switch(self, mode: str, times: int | None = None, seconds: float | None = None) -> None:
        self.mode, self.mode_calls_left = mode, times
        self.mode_until = None if seconds is None else time.monotonic() + seconds

    def next_mode(self) -> str:
        if self.mode_until is not None and time.monotonic() >= self.mode_until:
            self.switch("normal")
        mode = self.mode
        if self.mode_calls_left is not None:
            self.mode_calls_left -= 1
            if self.mode_calls_left <= 0:
                self.switch("normal")
        return mode


def build_app(folder: Path, *, batch_id_limit: int | None = None, path: str = DEFAULT_PATH) -> Starlette:
    state = SandboxState(folder=folder, batch_id_limit=batch_id_limit)

    async def run_map(request: Request) -> Response:
        async with state.lock:
            state.calls += 1
            mode = state.next_mode()
            if mode == "down":
                return Response("no listener", status_code=502)
            if mode == "fail":
                return _soap(_fault("SmartConnect could not be loaded"), 500)
            if (refusal := state.faults.refusal()) is not None:
                return refusal
            dropped = state.faults.switches.strikes(DROPPED)
            if not dropped:
                try:
                    map_id, inter_id, rows = _read_call(
                        await request.body(), request.headers.get("SOAPAction", "")
                    )
                    count = _apply(state, map_id, inter_id, rows)
                    state.accepted += 1
                    result = _result(map_id, 0, "", count)
                except MapRejectedError as rejected:
                    result = _result("", 1, str(rejected), 0)
                dropped = state.faults.switches.strikes(DROPPED_AFTER_APPLY)
        if dropped:
            await drop_connection(request)
            return Response(status_code=204)  # never sent: uvicorn discards it, the connection is gone
        if mode == "timeout_after_accept":
            await asyncio.sleep(state.hold_seconds)
        return _soap(result, 200)

    async def set_mode(request: Request) -> Response:
        body = await request.json()
        if body.get("mode") not in MODES:
            return JSONResponse({"error": f"mode must be one of {MODES}"}, status_code=400)
        seconds = body.get("seconds")
        state.switch(body["mode"], body.get("times"), float(seconds) if seconds is not None else None)
        state.hold_seconds = float(body.get("holdSeconds", state.hold_seconds))
        return JSONResponse({"mode": state.mode})

    async def reset(_: Request) -> Response:
        state.switch("normal")
        state.calls, state.accepted = 0, 0
        state.faults.clear()
        return JSONResponse({"mode": state.mode})

    async def stats(_: Request) -> Response:
        return JSONResponse({"calls": state.calls, "accepted": state.accepted, "mode": state.mode})

    async def payment(request: Request) -> Response:
        """``{"company": "TOWNE", "document": "017020250401 00", "amount": "125.00"}`` → what stays open."""
        body = await request.json()
        try:
            amount = Decimal(str(body["amount"]))
            async with state.lock:
                remaining = apply_payment(state.folder, str(body["company"]), str(body["document"]), amount)
        except (KeyError, InvalidOperation, PaymentRefusedError) as refused:
            return JSONResponse({"error": f"payment refused: {refused}"}, status_code=400)
        return JSONResponse({"document": body["document"], "remaining": f"{remaining:.2f}"})

    return Starlette(
        routes=[
            Route(path, run_map, methods=["POST"]),
            Route("/admin/mode", set_mode, methods=["POST"]),
            Route("/admin/faults", state.faults.admin, methods=["POST", "GET", "DELETE"]),
            Route("/admin/stats", stats, methods=["GET"]),
            Route("/admin/reset", reset, methods=["POST"]),
            Route("/admin/payments", payment, methods=["POST"]),
        ]
    )


def _read_call(body: bytes, soap_action: str) -> tuple[str, str, list[dict[str, str]]]:
    if soap_action.strip('"') != f"{SERVICE_NS}RunMapDataTable":
        raise MapRejectedError(f"Unknown SOAPAction {soap_action!r}")
    try:
        call = SafeET.fromstring(body).find(f"{{{SOAP_NS}}}Body/{{{SERVICE_NS}}}RunMapDataTable")
        if call is None:
            raise MapRejectedError("The request is not a RunMapDataTable call")
        dataset = SafeET.fromstring(call.findtext(f"{{{SERVICE_NS}}}xml") or "")
    except ET.ParseError as error:
        raise MapRejectedError(f"The data table is not valid XML: {error}") from None
    rows = [{column.tag: column.text or "" for column in table} for table in dataset.findall("Table")]
    map_id = call.findtext(f"{{{SERVICE_NS}}}mapID") or ""
    inter_id = call.findtext(f"{{{SERVICE_NS}}}interID") or ""
    if not rows:
        raise MapRejectedError("The data table has no rows")
    return map_id, inter_id, rows


def _apply(state: SandboxState, map_id: str, inter_id: str, rows: Sequence[Mapping[str, str]]) -> int:
    """Validate every document of the call, then write them all or none; returns the document count."""
    companies = known_companies(state.folder)
    if inter_id not in companies:
        raise MapRejectedError(f"Integration company '{inter_id}' is not set up in SmartConnect")
    grouping = {
        "RMIMPV2": ("COMP", "BatchID", "DocumentNumber"),
        "PMIMPV2": ("COMPANY", "BATCHID", "DOCNUMBR"),
        "GLIMP": ("COMPANY", "BATCHID", "REFRENCE"),
    }
    if map_id not in grouping:
        raise MapRejectedError(f"Map '{map_id}' does not exist")
    company_column, batch_column, document_column = grouping[map_id]
    documents: dict[tuple[str, str, str], list[Mapping[str, str]]] = defaultdict(list)
    for row in rows:
        documents[
            (row.get(company_column, ""), row.get(batch_column, ""), row.get(document_column, ""))
        ].append(row)
    for (company, batch, _), _rows in documents.items():
        if company not in companies:
            raise MapRejectedError(f"Company '{company}' does not exist")
        if not batch or (state.batch_id_limit is not None and len(batch) > state.batch_id_limit):
            raise MapRejectedError(f"Batch ID '{batch}' is longer than {state.batch_id_limit} characters")
    by_company: dict[str, list[tuple[str, str, list[Mapping[str, str]]]]] = defaultdict(list)
    for (company, batch, number), document_rows in documents.items():
        by_company[company].append((batch, number, document_rows))
    for company, company_documents in by_company.items():
        connection = open_company(state.folder, company)
        try:
            connection.execute("BEGIN IMMEDIATE")
            for batch, number, document_rows in company_documents:
                _write(connection, map_id, batch, number, document_rows)
            connection.execute("COMMIT")
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        finally:
            connection.close()
    return len(documents)


def _write(
    connection: sqlite3.Connection, map_id: str, batch: str, number: str, rows: Sequence[Mapping[str, str]]
) -> None:
    names = ("AccountNumber", "Debit", "Credit") if map_id == "RMIMPV2" else ("ACCOUNT", "DEBIT", "CREDIT")
    lines = [(row.get(names[0], ""), _amount(row, names[1]), _amount(row, names[2])) for row in rows]
    indexes: dict[str, tuple[int, int]] = {}
    for account, _, _ in lines:
        found = connection.execute(
            "SELECT a.ACTINDX, m.ACCTTYPE FROM GL00105 a JOIN GL00100 m ON m.ACTINDX = a.ACTINDX "
            "WHERE a.ACTNUMST = ? AND m.ACTIVE = 1",
            (account,),
        ).fetchone()
        if found is None:
            raise MapRejectedError(f"Account '{account}' does not exist (document {number})")
        indexes[account] = (int(found[0]), int(found[1]))
    debits = sum((debit for _, debit, _ in lines), Decimal(0))
    credits = sum((credit for _, _, credit in lines), Decimal(0))
    statistical = all(kind == UNIT_ACCOUNT for _, kind in indexes.values())
    if not statistical and debits != credits:
        raise MapRejectedError(f"Document {number} is out of balance: debits {debits} credits {credits}")
    first = rows[0]
    series, date_column = SERIES_AND_DATE[map_id]
    try:
        day = datetime.strptime(first.get(date_column, ""), "%m/%d/%Y").date()
    except ValueError:
        raise MapRejectedError(
            f"{date_column} '{first.get(date_column)}' is not a date (document {number})"
        ) from None
    closed = period_refusal(connection, day, series)
    if closed:
        raise MapRejectedError(f"{closed} (document {number})")
    if map_id == "RMIMPV2":
        duplicate = connection.execute(
            "SELECT 1 FROM RM20101 WHERE DOCNUMBR = ? UNION SELECT 1 FROM RM30101 WHERE DOCNUMBR = ?",
            (number, number),
        ).fetchone()
        if duplicate:
            raise MapRejectedError(f"Duplicate document number {number}")
        sales = _amount(first, "Sales")
        connection.execute(
            "INSERT INTO RM20101 (CUSTNMBR, DOCNUMBR, RMDTYPAL, BACHNUMB, DOCDATE, ORTRXAMT, CURTRXAM, SLSAMNT) "
            "VALUES (?, ?, 1, ?, ?, ?, ?, ?)",
            (
                first.get("CustomerID", ""),
                number,
                batch,
                first.get("PostingDate", ""),
                str(sales),
                str(sales),
                str(sales),
            ),
        )
    elif map_id == "PMIMPV2":
        vendor = first.get("VENDORID", "")
        if connection.execute(
            "SELECT 1 FROM PM10000 WHERE VENDORID = ? AND DOCNUMBR = ?", (vendor, number)
        ).fetchone():
            raise MapRejectedError(f"Duplicate document number {number} for vendor {vendor}")
        voucher = connection.execute("SELECT COUNT(*) + 1 FROM PM10000").fetchone()[0]
        connection.execute(
            "INSERT INTO PM10000 (VCHNUMWK, VENDORID, DOCNUMBR, DOCTYPE, DOCAMNT, BACHNUMB, DOCDATE) "
            "VALUES (?, ?, ?, 5, ?, ?, ?)",
            (
                f"{voucher:08}",
                vendor,
                number,
                str(_amount(first, "DOCAMNT")),
                batch,
                first.get("TRXDATE", ""),
            ),
        )
    else:
        cursor = connection.execute(
            "INSERT INTO GL10000 (BACHNUMB, REFRENCE, TRXDATE, SOURCDOC) VALUES (?, ?, ?, ?)",
            (batch, number, first.get("TRXDATE", ""), first.get("SRCDOC", "GJ")),
        )
        entry = cursor.lastrowid
        connection.executemany(
            "INSERT INTO GL10001 (JRNENTRY, SQNCLINE, ACTINDX, DEBITAMT, CRDTAMNT) VALUES (?, ?, ?, ?, ?)",
            [
                (entry, 16384 * (n + 1), indexes[account][0], str(debit), str(credit))
                for n, (account, debit, credit) in enumerate(lines)
            ],
        )


def _amount(row: Mapping[str, str], column: str) -> Decimal:
    try:
        return Decimal(row.get(column) or "0")
    except InvalidOperation:
        raise MapRejectedError(f"{column} '{row.get(column)}' is not a number") from None


def _result(map_id: str, errors: int, message: str, count: int) -> ET.Element:
    response = ET.Element(f"{{{SERVICE_NS}}}RunMapDataTableResponse")
    result = ET.SubElement(response, f"{{{SERVICE_NS}}}RunMapDataTableResult")
    values: dict[str, Any] = {
        "ErrorCount": errors,
        "ErrorMessage": message,
        "MapId": map_id,
        "RecordCount": count,
        "Status": "Success" if errors == 0 else "Failed",
    }
    for name, value in values.items():
        ET.SubElement(result, f"{{{SERVICE_NS}}}{name}").text = str(value)
    return response


def _fault(text: str) -> ET.Element:
    fault = ET.Element(f"{{{SOAP_NS}}}Fault")
    ET.SubElement(fault, "faultcode").text = "soap:Server"
    ET.SubElement(fault, "faultstring").text = text
    return fault


def _soap(content: ET.Element, status: int) -> Response:
    ET.register_namespace("soap", SOAP_NS)
    envelope = ET.Element(f"{{{SOAP_NS}}}Envelope")
    ET.SubElement(envelope, f"{{{SOAP_NS}}}Body").append(content)
    return Response(ET.tostring(envelope, encoding="unicode"), status_code=status, media_type="text/xml")
