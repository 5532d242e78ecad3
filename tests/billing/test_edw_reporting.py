"""Billing copied into the EDW's TP_STAGE tables equals Dataverse's rows, checked by queries of the test's own.

The planted month's statements and invoices (one with lines) and two GP
requests in ``bs_glrequestlog`` are copied by the real ``BillingReporting``
into the session's sandbox SQL Server; Dataverse is read back through its Web
API and TP_STAGE with plain SQLite, and both must hold the same rows. A second
run after a change writes only what changed since the tables' newest
``modifiedon`` (that second's rows again, which ``ge`` re-reads on purpose).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import Engine, delete

from localdev.billing_month import Planted
from shared.connectors.dataverse.client import DataverseClient
from shared.connectors.great_plains.smartconnect import envelope
from shared.sql.billing_reporting import DDL_FILE, billing_metadata, sql_server_ddl
from shared.sql.engines import sql_server_engine
from shared.workflows.billing.edw_reporting import BillingReporting
from shared.workflows.gp_posting.audit import REQUEST_FAIL, REQUEST_SUCCESS
from tests.fixtures.dataverse_sandbox import DataverseSandbox

pytestmark = pytest.mark.services

LINES = [
    {"title": "Management fee", "description": "", "code": "4791", "amount": 1400.25,
     "metaData": {"lineItemType": None, "taxesPaid": 0}},
    {"title": "Validation adjustment", "description": "", "code": "4791", "amount": -150.25,
     "metaData": {"lineItemType": "validation", "taxesPaid": 0}},
]  # fmt: skip
REQUESTS = (
    ("6f0c2a51-0000-4000-8000-000000000001", "8701", REQUEST_SUCCESS, "RMIMPV2", "87012033050100"),
    ("6f0c2a51-0000-4000-8000-000000000002", "8704", REQUEST_FAIL, "RMIMPV2", "87042033050100"),
)


@pytest.fixture
def edw(hub_sql_sandbox: str) -> Iterator[Engine]:
    engine = sql_server_engine(hub_sql_sandbox, None, 60)
    with engine.begin() as connection:  # the session's sandbox: start from empty billing tables
        for table in billing_metadata.sorted_tables:
            connection.execute(delete(table))
    yield engine
    engine.dispose()


def stage(hub_sql_sandbox: str, query: str) -> list[tuple[Any, ...]]:
    folder = Path(hub_sql_sandbox.removeprefix("sqlite:///")).parent
    with sqlite3.connect(folder / "TP_STAGE.sqlite") as connection:
        return connection.execute(query).fetchall()


def web_api(sandbox: DataverseSandbox, query: str) -> list[dict[str, Any]]:
    with sandbox.client() as client:
        answer = client.get(query)
    assert answer.status_code == 200, answer.text
    rows: list[dict[str, Any]] = answer.json()["value"]
    return rows


def write_requests(dataverse: DataverseClient) -> None:
    for row_id, site, status, map_id, number in REQUESTS:
        rows = [{"COMP": "TOWNE", "BatchID": "203305POWERBILL2033-05-31", "DocumentNumber": number}]
        dataverse.upsert(
            "bs_glrequestlogs",
            {"bs_glrequestlogid": row_id},
            {
                "bs_requestxml": envelope(map_id, "TOWNE", rows),
                "bs_sitenumber": site,
                "bs_requeststatus": status,
            },
        )


def money(value: Any) -> str | None:
    return None if value is None else f"{float(value):.2f}"


def dataverse_invoices(sandbox: DataverseSandbox) -> set[tuple[Any, ...]]:
    select = "bs_invoiceid,bs_invoicenumber,_bs_billingstatementfk_value,bs_amount,bs_gpdocumentnumber"
    return {
        (row["bs_invoiceid"], row["bs_invoicenumber"], row["_bs_billingstatementfk_value"],
         money(row["bs_amount"]), row.get("bs_gpdocumentnumber"))
        for row in web_api(sandbox, f"bs_invoices?$select={select}")
    }  # fmt: skip


def stage_invoices(hub_sql_sandbox: str) -> set[tuple[Any, ...]]:
    rows = stage(
        hub_sql_sandbox,
        "SELECT INVOICE_ID, INVOICE_NUMBER, STATEMENT_ID, AMOUNT, GP_DOCUMENT_NUMBER FROM HUB_BILLING_INVOICE",
    )
    return {(a, b, c, money(amount), e) for a, b, c, amount, e in rows}


def test_the_edw_billing_tables_equal_dataverse_after_a_run_and_follow_a_change(
    planted: Planted,
    dataverse: DataverseClient,
    dataverse_sandbox: DataverseSandbox,
    edw: Engine,
    hub_sql_sandbox: str,
) -> None:
    with_lines = f"8701-{planted.period.replace('-', '')}-01-00"
    dataverse.upsert(
        "bs_invoices", {"bs_invoicenumber": with_lines}, {"bs_invoicedata": orjson.dumps(LINES).decode()}
    )
    write_requests(dataverse)
    reporting = BillingReporting(
        dataverse, edw, chunk_rows=4
    )  # several chunks, so the cursor moves chunk by chunk

    first = reporting.run()

    statements = web_api(
        dataverse_sandbox,
        "bs_billingstatements?$select=bs_billingstatementid,bs_serviceperiodstart,bs_statementstatus",
    )
    assert first == {
        "HUB_BILLING_STATEMENT": len(statements),
        "HUB_BILLING_INVOICE": len(dataverse_invoices(dataverse_sandbox)),
        "HUB_GP_POSTING": len(REQUESTS),
    }
    assert {(row["bs_billingstatementid"], row["bs_serviceperiodstart"][:10], row["bs_statementstatus"])
            for row in statements} == set(
        stage(hub_sql_sandbox, "SELECT STATEMENT_ID, SERVICE_PERIOD_START, STATUS FROM HUB_BILLING_STATEMENT")
    )  # fmt: skip
    assert stage_invoices(hub_sql_sandbox) == dataverse_invoices(dataverse_sandbox)
    assert stage(
        hub_sql_sandbox,
        "SELECT SITE_NUMBER, INVOICE_NUMBER, TITLE, CODE, AMOUNT, LINE_ITEM_TYPE FROM vwHUB_BILLING_INVOICE_LINES "
        "ORDER BY LINE_NUMBER",
    ) == [("8701", with_lines, line["title"], line["code"], line["amount"], line["metaData"]["lineItemType"])
          for line in LINES]  # fmt: skip
    assert set(stage(hub_sql_sandbox, "SELECT SITE_NUMBER, MAP_ID, DOCUMENT_NUMBER, BATCH_ID, OUTCOME FROM vwHUB_GP_POSTINGS")) == {
        (site, map_id, number, "203305POWERBILL2033-05-31", "success" if status == REQUEST_SUCCESS else "fail")
        for _, site, status, map_id, number in REQUESTS
    }  # fmt: skip

    newest = max(
        datetime.fromisoformat(value).replace(tzinfo=UTC)
        for (value,) in stage(hub_sql_sandbox, "SELECT MODIFIED_ON FROM HUB_BILLING_INVOICE")
    )
    dataverse.upsert(
        "bs_invoices", {"bs_invoicenumber": with_lines}, {"bs_amount": 1250.5, "bs_gppaymentstatus": "Paid"}
    )
    since = [
        row for row in web_api(dataverse_sandbox, "bs_invoices?$select=bs_invoiceid,modifiedon")
        if datetime.fromisoformat(row["modifiedon"].replace("Z", "+00:00")) >= newest
    ]  # fmt: skip

    second = reporting.run()

    assert second["HUB_BILLING_INVOICE"] == len(since)
    assert stage_invoices(hub_sql_sandbox) == dataverse_invoices(dataverse_sandbox)
    assert stage(
        hub_sql_sandbox,
        f"SELECT GP_PAYMENT_STATUS FROM HUB_BILLING_INVOICE WHERE INVOICE_NUMBER = '{with_lines}'",
    ) == [("Paid",)]


def test_the_sql_server_script_is_the_one_the_declarations_write() -> None:
    assert DDL_FILE.read_text() == sql_server_ddl(), "run: .venv/bin/python -m shared.sql.billing_reporting"
