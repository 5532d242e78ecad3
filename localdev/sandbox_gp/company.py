"""Sandbox GP company databases: one SQLite file per company with the GP tables the hub reads.

Column names follow GP (PROTOCOLS.md §3.1); only the columns the hub and its
tests use are kept. ``PM10000`` (unposted payables) is included because AP
documents land there, and ``PM20000`` (open payables) so the hub can look there too.

A company comes with a fiscal calendar, as a GP company must have one before
anything posts: calendar-year monthly periods (DOMAIN.md §10.1 infers fiscal
year = calendar year) for ``CALENDAR_YEARS``, all open. Payments are applied
as GP's Cash Receipts Entry would: a payment document (``RMDTYPAL`` 9) lowers
the invoice's open amount (``CURTRXAM``), and what is fully applied is moved
to history (``RM30101``) at once, as Paid Transaction Removal would.
"""

from __future__ import annotations

import calendar
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

from shared.connectors.great_plains.chart import Series

SCHEMA = """
CREATE TABLE IF NOT EXISTS GL00100 (ACTINDX INTEGER PRIMARY KEY, ACCTTYPE INTEGER NOT NULL, ACTDESCR TEXT,
    ACTIVE INTEGER NOT NULL DEFAULT 1);
CREATE TABLE IF NOT EXISTS GL00105 (ACTINDX INTEGER PRIMARY KEY, ACTNUMST TEXT NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS RM00101 (CUSTNMBR TEXT PRIMARY KEY, CUSTNAME TEXT);
CREATE TABLE IF NOT EXISTS SY01200 (Master_Type TEXT NOT NULL, Master_ID TEXT NOT NULL, ADRSCODE TEXT NOT NULL,
    EmailToAddress TEXT, PRIMARY KEY (Master_Type, Master_ID, ADRSCODE));
CREATE TABLE IF NOT EXISTS RM20101 (CUSTNMBR TEXT NOT NULL, DOCNUMBR TEXT NOT NULL, RMDTYPAL INTEGER NOT NULL,
    BACHNUMB TEXT, DOCDATE TEXT, ORTRXAMT NUMERIC, CURTRXAM NUMERIC, SLSAMNT NUMERIC,
    VOIDSTTS INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (RMDTYPAL, DOCNUMBR));
CREATE TABLE IF NOT EXISTS RM30101 (CUSTNMBR TEXT NOT NULL, DOCNUMBR TEXT NOT NULL, RMDTYPAL INTEGER NOT NULL,
    BACHNUMB TEXT, DOCDATE TEXT, ORTRXAMT NUMERIC, CURTRXAM NUMERIC, SLSAMNT NUMERIC,
    VOIDSTTS INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS PM10000 (VCHNUMWK TEXT PRIMARY KEY, VENDORID TEXT NOT NULL, DOCNUMBR TEXT NOT NULL,
    DOCTYPE INTEGER NOT NULL, DOCAMNT NUMERIC, BACHNUMB TEXT, DOCDATE TEXT);
CREATE TABLE IF NOT EXISTS PM20000 (VCHRNMBR TEXT PRIMARY KEY, VENDORID TEXT NOT NULL, DOCNUMBR TEXT NOT NULL,
    DOCTYPE INTEGER NOT NULL, DOCAMNT NUMERIC, CURTRXAM NUMERIC, BACHNUMB TEXT, DOCDATE TEXT);
CREATE TABLE IF NOT EXISTS GL10000 (JRNENTRY INTEGER PRIMARY KEY, BACHNUMB TEXT NOT NULL, REFRENCE TEXT,
    TRXDATE TEXT, TRXTYPE INTEGER DEFAULT 0, SOURCDOC TEXT);
CREATE TABLE IF NOT EXISTS GL10001 (JRNENTRY INTEGER NOT NULL, SQNCLINE INTEGER NOT NULL, ACTINDX INTEGER NOT NULL,
    DEBITAMT NUMERIC, CRDTAMNT NUMERIC, DSCRIPTN TEXT, PRIMARY KEY (JRNENTRY, SQNCLINE));
CREATE TABLE IF NOT EXISTS SY40100 (YEAR1 INTEGER, PERIODID INTEGER, PERIODDT TEXT, PERDENDT TEXT, PERNAME TEXT,
    SERIES INTEGER DEFAULT 0, FORIGIN INTEGER DEFAULT 1, CLOSED INTEGER DEFAULT 0,
    PSERIES_1 INTEGER DEFAULT 0, PSERIES_2 INTEGER DEFAULT 0, PSERIES_3 INTEGER DEFAULT 0,
    PSERIES_4 INTEGER DEFAULT 0, PSERIES_5 INTEGER DEFAULT 0, PSERIES_6 INTEGER DEFAULT 0);
"""

POSTING_ACCOUNT = 1
UNIT_ACCOUNT = 2
INVOICE = 1
PAYMENT = 9
CALENDAR_YEARS = range(2020, 2036)


def company_path(folder: Path, company: str) -> Path:
    return folder / f"{company}.sqlite"


# Customer master columns added after the first sandboxes were made: an older company file gains them.
_CUSTOMER_COLUMNS = (
    "ADRSCODE TEXT DEFAULT 'PRIMARY'",
    "ADDRESS1 TEXT",
    "ADDRESS2 TEXT",
    "CITY TEXT",
    "STATE TEXT",
    "ZIP TEXT",
    "HOLD INTEGER NOT NULL DEFAULT 0",
    "INACTIVE INTEGER NOT NULL DEFAULT 0",
)


def open_company(folder: Path, company: str) -> sqlite3.Connection:
    """The company's database, created with GP's tables on first use."""
    folder.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(company_path(folder, company), isolation_level=None, timeout=30)
    connection.executescript(SCHEMA)
    present = {row[1] for row in connection.execute("PRAGMA table_info(RM00101)")}
    for declaration in _CUSTOMER_COLUMNS:
        if declaration.split()[0] not in present:
            try:
                connection.execute(f"ALTER TABLE RM00101 ADD COLUMN {declaration}")
            except sqlite3.OperationalError as error:  # another process added it first
                if "duplicate column" not in str(error):
                    raise
    if connection.execute("SELECT 1 FROM SY40100 LIMIT 1").fetchone() is None:
        _add_fiscal_calendar(connection)
    return connection


def _add_fiscal_calendar(connection: sqlite3.Connection) -> None:
    """The rows of the Fiscal Periods Setup window (``SERIES`` 0): one per month, every series open."""
    rows = []
    for year in CALENDAR_YEARS:
        for month in range(1, 13):
            last = calendar.monthrange(year, month)[1]
            start, end = date(year, month, 1), date(year, month, last)
            rows.append((year, month, start.isoformat(), end.isoformat(), f"{start:%B}"))
    connection.execute("BEGIN IMMEDIATE")
    if connection.execute("SELECT 1 FROM SY40100 LIMIT 1").fetchone() is None:
        connection.executemany(
            "INSERT INTO SY40100 (YEAR1, PERIODID, PERIODDT, PERDENDT, PERNAME) VALUES (?, ?, ?, ?, ?)", rows
        )
    connection.execute("COMMIT")


def seed_accounts(
    folder: Path, company: str, accounts: Iterable[str], account_type: int = POSTING_ACCOUNT
) -> None:
    """Add accounts to the chart (``GL00100`` + ``GL00105``); existing ones are left as they are."""
    connection = open_company(folder, company)
    try:
        # One transaction: a world's chart is tens of thousands of accounts.
        connection.execute("BEGIN IMMEDIATE")
        for account in accounts:
            if connection.execute("SELECT 1 FROM GL00105 WHERE ACTNUMST = ?", (account,)).fetchone():
                continue
            index = connection.execute("SELECT COALESCE(MAX(ACTINDX), 0) + 1 FROM GL00100").fetchone()[0]
            connection.execute(
                "INSERT INTO GL00100 (ACTINDX, ACCTTYPE, ACTDESCR) VALUES (?, ?, ?)",
                (index, account_type, account),
            )
            connection.execute("INSERT INTO GL00105 (ACTINDX, ACTNUMST) VALUES (?, ?)", (index, account))
        connection.execute("COMMIT")
    finally:
        connection.close()


@dataclass(frozen=True)
class Customer:
    """A GP customer card (Customer Maintenance): ``RM00101`` and its primary address's e-mail in ``SY01200``."""

    number: str
    name: str
    address1: str = ""
    city: str = ""
    state: str = ""
    zip_code: str = ""
    email: str = ""
    on_hold: bool = False


def seed_customers(folder: Path, company: str, customers: Iterable[Customer]) -> None:
    """Add or replace customer cards, as Customer Maintenance saves them."""
    connection = open_company(folder, company)
    try:
        connection.execute("BEGIN IMMEDIATE")
        for customer in customers:
            connection.execute(
                "INSERT OR REPLACE INTO RM00101 (CUSTNMBR, CUSTNAME, ADRSCODE, ADDRESS1, CITY, STATE, ZIP, HOLD) "
                "VALUES (?, ?, 'PRIMARY', ?, ?, ?, ?, ?)",
                (
                    customer.number,
                    customer.name,
                    customer.address1,
                    customer.city,
                    customer.state,
                    customer.zip_code,
                    int(customer.on_hold),
                ),
            )
            connection.execute(
                "INSERT OR REPLACE INTO SY01200 (Master_Type, Master_ID, ADRSCODE, EmailToAddress) "
                "VALUES ('CUS', ?, 'PRIMARY', ?)",
                (customer.number, customer.email),
            )
        connection.execute("COMMIT")
    finally:
        connection.close()


def set_account_active(folder: Path, company: str, account: str, active: bool) -> None:
    """Tick or untick an account's Inactive box in Account Maintenance (``GL00100.ACTIVE``)."""
    connection = open_company(folder, company)
    try:
        changed = connection.execute(
            "UPDATE GL00100 SET ACTIVE = ? WHERE ACTINDX = (SELECT ACTINDX FROM GL00105 WHERE ACTNUMST = ?)",
            (int(active), account),
        ).rowcount
    finally:
        connection.close()
    if not changed:
        raise ValueError(f"{company} has no account {account}")


def set_period_closed(folder: Path, company: str, day: date, series: Series, closed: bool = True) -> None:
    """Tick (or untick) a series' box for the period holding ``day``, as in Fiscal Periods Setup."""
    connection = open_company(folder, company)
    try:
        changed = connection.execute(
            "UPDATE SY40100 SET "
            "PSERIES_1 = CASE WHEN :series = 1 THEN :closed ELSE PSERIES_1 END, "
            "PSERIES_2 = CASE WHEN :series = 2 THEN :closed ELSE PSERIES_2 END, "
            "PSERIES_3 = CASE WHEN :series = 3 THEN :closed ELSE PSERIES_3 END "
            "WHERE SERIES = 0 AND PERIODDT <= :day AND PERDENDT >= :day",
            {"series": int(series), "closed": int(closed), "day": day.isoformat()},
        ).rowcount
    finally:
        connection.close()
    if not changed:
        raise ValueError(f"{company} has no fiscal period holding {day}")


def period_refusal(connection: sqlite3.Connection, day: date, series: Series) -> str | None:
    """Why GP would not post a ``series`` document dated ``day``, or None when the period is open."""
    period = connection.execute(
        "SELECT PERNAME, YEAR1, PSERIES_1, PSERIES_2, PSERIES_3 FROM SY40100 "
        "WHERE SERIES = 0 AND PERIODID > 0 AND PERIODDT <= :day AND PERDENDT >= :day",
        {"day": day.isoformat()},
    ).fetchone()
    if period is None:
        return f"No fiscal period is set up for {day:%m/%d/%Y}"
    if period[1 + int(series)]:
        return f"The fiscal period {period[0]} {period[1]} is closed for the {series.name.lower()} series"
    return None


class PaymentRefusedError(ValueError):
    """A payment GP's Cash Receipts Entry would not apply; the message says why."""


def apply_payment(folder: Path, company: str, document_number: str, amount: Decimal) -> Decimal:
    """Apply a cash receipt of ``amount`` to an open invoice; returns what is still open on it.

    The payment document is fully applied on entry, so it goes to history at
    once; the invoice follows when nothing is left open on it.
    """
    if amount <= 0:
        raise PaymentRefusedError(f"a payment must be positive, not {amount}")
    connection = open_company(folder, company)
    try:
        connection.execute("BEGIN IMMEDIATE")
        try:
            remaining = _apply(connection, company, document_number, amount)
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        connection.execute("COMMIT")
        return remaining
    finally:
        connection.close()


def _apply(connection: sqlite3.Connection, company: str, document_number: str, amount: Decimal) -> Decimal:
    invoice = connection.execute(
        "SELECT CUSTNMBR, CURTRXAM FROM RM20101 WHERE RMDTYPAL = ? AND DOCNUMBR = ? AND VOIDSTTS = 0",
        (INVOICE, document_number),
    ).fetchone()
    if invoice is None:
        raise PaymentRefusedError(f"{company} has no open invoice {document_number}")
    customer, open_amount = invoice[0], Decimal(str(invoice[1]))
    if amount > open_amount:
        raise PaymentRefusedError(f"{amount} is more than the {open_amount} open on {document_number}")
    remaining = open_amount - amount
    count = connection.execute(
        "SELECT (SELECT COUNT(*) FROM RM20101 WHERE RMDTYPAL = :t) + (SELECT COUNT(*) FROM RM30101 WHERE RMDTYPAL = :t)",
        {"t": PAYMENT},
    ).fetchone()[0]
    connection.execute(
        "INSERT INTO RM30101 (CUSTNMBR, DOCNUMBR, RMDTYPAL, BACHNUMB, DOCDATE, ORTRXAMT, CURTRXAM) "
        "VALUES (?, ?, ?, 'CASH RECEIPTS', ?, ?, 0)",
        (customer, f"PMT{count + 1:08d}", PAYMENT, date.today().isoformat(), str(amount)),
    )
    connection.execute(
        "UPDATE RM20101 SET CURTRXAM = ? WHERE RMDTYPAL = ? AND DOCNUMBR = ?",
        (str(remaining), INVOICE, document_number),
    )
    if remaining == 0:
        connection.execute(
            "INSERT INTO RM30101 SELECT CUSTNMBR, DOCNUMBR, RMDTYPAL, BACHNUMB, DOCDATE, ORTRXAMT, CURTRXAM, "
            "SLSAMNT, VOIDSTTS FROM RM20101 WHERE RMDTYPAL = ? AND DOCNUMBR = ?",
            (INVOICE, document_number),
        )
        connection.execute(
            "DELETE FROM RM20101 WHERE RMDTYPAL = ? AND DOCNUMBR = ?", (INVOICE, document_number)
        )
    return remaining


def known_companies(folder: Path) -> set[str]:
    return {path.stem for path in folder.glob("*.sqlite")}
