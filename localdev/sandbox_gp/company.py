"""Sandbox GP company databases: one SQLite file per company with the GP tables the hub reads.

Column names follow GP (PROTOCOLS.md §3.1); only the columns the hub and its
tests use are kept. ``PM10000`` (unposted payables) is included because AP
documents land there, and ``PM20000`` (open payables) so the hub can look there too.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS GL00100 (ACTINDX INTEGER PRIMARY KEY, ACCTTYPE INTEGER NOT NULL, ACTDESCR TEXT,
    ACTIVE INTEGER NOT NULL DEFAULT 1);
CREATE TABLE IF NOT EXISTS GL00105 (ACTINDX INTEGER PRIMARY KEY, ACTNUMST TEXT NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS RM00101 (CUSTNMBR TEXT PRIMARY KEY, CUSTNAME TEXT);
CREATE TABLE IF NOT EXISTS RM20101 (CUSTNMBR TEXT NOT NULL, DOCNUMBR TEXT NOT NULL, RMDTYPAL INTEGER NOT NULL,
    BACHNUMB TEXT, DOCDATE TEXT, ORTRXAMT NUMERIC, CURTRXAM NUMERIC, SLSAMNT NUMERIC,
    PRIMARY KEY (RMDTYPAL, DOCNUMBR));
CREATE TABLE IF NOT EXISTS RM30101 (CUSTNMBR TEXT NOT NULL, DOCNUMBR TEXT NOT NULL, RMDTYPAL INTEGER NOT NULL,
    BACHNUMB TEXT, DOCDATE TEXT, ORTRXAMT NUMERIC, CURTRXAM NUMERIC, SLSAMNT NUMERIC);
CREATE TABLE IF NOT EXISTS PM10000 (VCHNUMWK TEXT PRIMARY KEY, VENDORID TEXT NOT NULL, DOCNUMBR TEXT NOT NULL,
    DOCTYPE INTEGER NOT NULL, DOCAMNT NUMERIC, BACHNUMB TEXT, DOCDATE TEXT);
CREATE TABLE IF NOT EXISTS PM20000 (VCHRNMBR TEXT PRIMARY KEY, VENDORID TEXT NOT NULL, DOCNUMBR TEXT NOT NULL,
    DOCTYPE INTEGER NOT NULL, DOCAMNT NUMERIC, CURTRXAM NUMERIC, BACHNUMB TEXT, DOCDATE TEXT);
CREATE TABLE IF NOT EXISTS GL10000 (JRNENTRY INTEGER PRIMARY KEY, BACHNUMB TEXT NOT NULL, REFRENCE TEXT,
    TRXDATE TEXT, TRXTYPE INTEGER DEFAULT 0, SOURCDOC TEXT);
CREATE TABLE IF NOT EXISTS GL10001 (JRNENTRY INTEGER NOT NULL, SQNCLINE INTEGER NOT NULL, ACTINDX INTEGER NOT NULL,
    DEBITAMT NUMERIC, CRDTAMNT NUMERIC, DSCRIPTN TEXT, PRIMARY KEY (JRNENTRY, SQNCLINE));
CREATE TABLE IF NOT EXISTS SY40100 (YEAR1 INTEGER, PERIODID INTEGER, PERIODDT TEXT, PERDENDT TEXT, PERNAME TEXT,
    SERIES INTEGER DEFAULT 0, CLOSED INTEGER DEFAULT 0);
"""

POSTING_ACCOUNT = 1
UNIT_ACCOUNT = 2


def company_path(folder: Path, company: str) -> Path:
    return folder / f"{company}.sqlite"


def open_company(folder: Path, company: str) -> sqlite3.Connection:
    """The company's database, created with GP's tables on first use."""
    folder.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(company_path(folder, company), isolation_level=None, timeout=30)
    connection.executescript(SCHEMA)
    return connection


def seed_accounts(
    folder: Path, company: str, accounts: Iterable[str], account_type: int = POSTING_ACCOUNT
) -> None:
    """Add accounts to the chart (``GL00100`` + ``GL00105``); existing ones are left as they are."""
    connection = open_company(folder, company)
    try:
        for account in accounts:
            if connection.execute("SELECT 1 FROM GL00105 WHERE ACTNUMST = ?", (account,)).fetchone():
                continue
            index = connection.execute("SELECT COALESCE(MAX(ACTINDX), 0) + 1 FROM GL00100").fetchone()[0]
            connection.execute(
                "INSERT INTO GL00100 (ACTINDX, ACCTTYPE, ACTDESCR) VALUES (?, ?, ?)",
                (index, account_type, account),
            )
            connection.execute("INSERT INTO GL00105 (ACTINDX, ACTNUMST) VALUES (?, ?)", (index, account))
    finally:
        connection.close()


def known_companies(folder: Path) -> set[str]:
    return {path.stem for path in folder.glob("*.sqlite")}
