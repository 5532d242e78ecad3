"""The hub's billing tables in ``TP_STAGE``, and the views Power BI reports billing from, declared once.

Issue 17: statements, invoices, their lines, GP postings and payment status in
one place on the EDW, so Power BI reports billing without reading Dataverse.
The hub owns these tables (Towne Park's objects in ``tables.py`` it only reads):
``HUB_BILLING_STATEMENT`` (``bs_billingstatement``), ``HUB_BILLING_INVOICE``
(``bs_invoice`` with GP's document number, batch and payment status, which the
poster and the payment-status sync write there), ``HUB_BILLING_INVOICE_LINE``
(the invoice's ``bs_invoicedata`` entries) and ``HUB_GP_POSTING`` (each
SmartConnect request in ``bs_glrequestlog``: document, batch, map, outcome).
Each row keeps the Dataverse ``modifiedon`` it was read at, the cursor the
reporting sync resumes from.

``DDL_FILE`` is the SQL Server script a DBA runs once (``python -m
shared.sql.billing_reporting`` writes it from these declarations;
``tests/billing/test_edw_reporting.py`` fails when it differs), and the
sandbox SQL Server creates the same tables and views (``create_billing_reporting``).
The views' bodies are written once, in SQL both SQL Server and SQLite read.
"""

from __future__ import annotations

import sys
from pathlib import Path

from sqlalchemy import (
    DECIMAL,
    INTEGER,
    NVARCHAR,
    Column,
    Date,
    DateTime,
    Engine,
    MetaData,
    Table,
    text,
)
from sqlalchemy.dialects import mssql
from sqlalchemy.schema import CreateTable

STAGE = "TP_STAGE.dbo"
DDL_FILE = Path(__file__).with_name("tp_stage_billing.sql")

billing_metadata = MetaData()
_DATE = Date().with_variant(mssql.DATE, "mssql")
_DATETIME2 = DateTime().with_variant(mssql.DATETIME2, "mssql")

billing_statement = Table(
    "HUB_BILLING_STATEMENT",
    billing_metadata,
    Column("STATEMENT_ID", NVARCHAR(36), primary_key=True),
    Column("SITE_NUMBER", NVARCHAR(4)),
    Column("SERVICE_PERIOD_START", _DATE),
    Column("VERSION_NUMBER", INTEGER),
    Column("STATUS", INTEGER),
    Column("STATUS_NAME", NVARCHAR(20)),
    Column("MODIFIED_ON", _DATETIME2, nullable=False),
    schema=STAGE,
)
billing_invoice = Table(
    "HUB_BILLING_INVOICE",
    billing_metadata,
    Column("INVOICE_ID", NVARCHAR(36), primary_key=True),
    Column("INVOICE_NUMBER", NVARCHAR(40)),
    Column("STATEMENT_ID", NVARCHAR(36)),
    Column("INVOICE_DATE", _DATE),
    Column("AMOUNT", DECIMAL(19, 2)),
    Column("GP_DOCUMENT_NUMBER", NVARCHAR(21)),
    Column("GP_BATCH_ID", NVARCHAR(25)),
    Column("GP_PAYMENT_STATUS", NVARCHAR(20)),
    Column("GP_AMOUNT_DUE", DECIMAL(19, 2)),
    Column("GP_AMOUNT_PAID", DECIMAL(19, 2)),
    Column("MODIFIED_ON", _DATETIME2, nullable=False),
    schema=STAGE,
)
billing_invoice_line = Table(
    "HUB_BILLING_INVOICE_LINE",
    billing_metadata,
    Column("INVOICE_ID", NVARCHAR(36), primary_key=True),
    Column("LINE_NUMBER", INTEGER, primary_key=True),
    Column("TITLE", NVARCHAR(200)),
    Column("CODE", NVARCHAR(20)),
    Column("AMOUNT", DECIMAL(19, 2)),
    Column("LINE_ITEM_TYPE", NVARCHAR(40)),
    schema=STAGE,
)
gp_posting = Table(
    "HUB_GP_POSTING",
    billing_metadata,
    Column("REQUEST_LOG_ID", NVARCHAR(36), primary_key=True),
    Column("SITE_NUMBER", NVARCHAR(4)),
    Column("MAP_ID", NVARCHAR(20)),
    Column("COMPANY", NVARCHAR(10)),
    Column("DOCUMENT_NUMBER", NVARCHAR(40)),
    Column("BATCH_ID", NVARCHAR(25)),
    Column("OUTCOME", NVARCHAR(10)),
    Column("REQUESTED_ON", _DATETIME2),
    Column("MODIFIED_ON", _DATETIME2, nullable=False),
    schema=STAGE,
)

# name → (what it answers, its body): unqualified names, so the body reads in TP_STAGE on either engine.
VIEWS: dict[str, tuple[str, str]] = {
    "vwHUB_BILLING_INVOICES": (
        "One row per invoice: its statement's site, month, version and status, its amount, and GP's "
        "document, batch and payment status.",
        "SELECT s.SITE_NUMBER, s.SERVICE_PERIOD_START, s.VERSION_NUMBER, s.STATUS_NAME AS STATEMENT_STATUS, "
        "i.INVOICE_NUMBER, i.INVOICE_DATE, i.AMOUNT, i.GP_DOCUMENT_NUMBER, i.GP_BATCH_ID, i.GP_PAYMENT_STATUS, "
        "i.GP_AMOUNT_DUE, i.GP_AMOUNT_PAID FROM HUB_BILLING_INVOICE i "
        "LEFT JOIN HUB_BILLING_STATEMENT s ON s.STATEMENT_ID = i.STATEMENT_ID",
    ),
    "vwHUB_BILLING_INVOICE_LINES": (
        "One row per invoice line with its invoice's number, site and month.",
        "SELECT s.SITE_NUMBER, s.SERVICE_PERIOD_START, i.INVOICE_NUMBER, l.LINE_NUMBER, l.TITLE, l.CODE, "
        "l.AMOUNT, l.LINE_ITEM_TYPE FROM HUB_BILLING_INVOICE_LINE l "
        "JOIN HUB_BILLING_INVOICE i ON i.INVOICE_ID = l.INVOICE_ID "
        "LEFT JOIN HUB_BILLING_STATEMENT s ON s.STATEMENT_ID = i.STATEMENT_ID",
    ),
    "vwHUB_GP_POSTINGS": (
        "One row per SmartConnect request: site, map, company, document, batch and outcome "
        "(pending, success, fail).",
        "SELECT p.SITE_NUMBER, p.MAP_ID, p.COMPANY, p.DOCUMENT_NUMBER, p.BATCH_ID, p.OUTCOME, p.REQUESTED_ON "
        "FROM HUB_GP_POSTING p",
    ),
}


def sql_server_ddl() -> str:
    """The script a DBA runs in TP_STAGE: each table, then each view, ``GO`` between batches."""
    dialect = mssql.dialect()  # type: ignore[no-untyped-call]  # SQLAlchemy types the dialect class loosely
    parts = [
        "-- The hub's billing reporting tables and views in TP_STAGE (shared/sql/billing_reporting.py).",
        "-- Written by `python -m shared.sql.billing_reporting`; the hub's EDW login needs SELECT, INSERT and",
        "-- DELETE on the four tables, Power BI's SELECT on the three views.",
        "USE TP_STAGE;",
        "GO",
    ]
    for table in billing_metadata.sorted_tables:
        compiled = str(CreateTable(table).compile(dialect=dialect)).strip()
        statement = "\n".join(line.rstrip() for line in compiled.splitlines())
        parts += [statement.replace("[TP_STAGE].dbo.", "dbo.") + ";", "GO"]
    for name, (meaning, body) in VIEWS.items():
        parts += [f"-- {meaning}", f"CREATE VIEW dbo.{name} AS {body};", "GO"]
    return "\n".join(parts) + "\n"


def create_billing_reporting(engine: Engine) -> None:
    """The tables and views in the sandbox SQL Server (SQLite, TP_STAGE attached)."""
    billing_metadata.create_all(engine)
    with engine.begin() as connection:
        for name, (_, body) in VIEWS.items():
            connection.execute(text(f"CREATE VIEW IF NOT EXISTS TP_STAGE.{name} AS {body}"))


if __name__ == "__main__":
    DDL_FILE.write_text(sql_server_ddl())
    sys.stdout.write(f"wrote {DDL_FILE}\n")
