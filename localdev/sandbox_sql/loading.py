"""Bulk writes into the sandbox's SQLite files, fast and in the formats SQLAlchemy reads back.

The tables are created by SQLAlchemy (``metadata.create_all`` through the
sandbox engine); rows are written here with ``sqlite3`` ``executemany`` from
generators, which is an order of magnitude faster than going through the ORM
or Core for millions of rows. Values are stored exactly as SQLAlchemy's SQLite
types store them (dates as 'YYYY-MM-DD', DATETIME2 as
'YYYY-MM-DD HH:MM:SS.ffffff'), so Core statements bind and compare them alike.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import Table

from shared.sql.engines import TOWNE_PARK_DATABASES

Row = Sequence[object]


def open_databases(folder: Path) -> sqlite3.Connection:
    """One connection with every Towne Park database attached under its own name, tuned for a bulk load.

    Durability is off (no journal, no fsync): a build that dies leaves a folder
    that is rebuilt from scratch anyway.
    """
    connection = sqlite3.connect(":memory:", isolation_level=None)
    for database in TOWNE_PARK_DATABASES:
        connection.execute(f"ATTACH DATABASE ? AS {database}", (str(folder / f"{database}.sqlite"),))
        connection.execute(f"PRAGMA {database}.journal_mode = OFF")
        connection.execute(f"PRAGMA {database}.synchronous = OFF")
        connection.execute(f"PRAGMA {database}.cache_size = -262144")
    connection.execute("BEGIN")
    return connection


def qualified(table: Table) -> str:
    """The table's name in the sandbox connection: ``TP_LEGION."vwPAYROLL_SUMMARY"``."""
    database = (table.schema or "").split(".")[0]
    return f'{database}."{table.name}"'


def insert(connection: sqlite3.Connection, table: Table, columns: Sequence[str], rows: Iterable[Row]) -> None:
    """Write ``rows`` (values in ``columns`` order) into ``table``."""
    unknown = [column for column in columns if column not in table.c]
    if unknown:
        raise ValueError(f"{table.fullname} has no column {', '.join(unknown)}")
    names = ", ".join(f'"{column}"' for column in columns)
    marks = ", ".join("?" for _ in columns)
    statement = f"INSERT INTO {qualified(table)} ({names}) VALUES ({marks})"  # noqa: S608 - names from tables.py
    connection.executemany(statement, rows)


def create_index(connection: sqlite3.Connection, table: Table, *columns: str) -> None:
    """A sandbox-only index for the syncs' filters; Towne Park's own indexes are unknown to the hub."""
    database = (table.schema or "").split(".")[0]
    name = f"ix_{table.name}_{'_'.join(columns)}"
    listed = ", ".join(f'"{column}"' for column in columns)
    connection.execute(f'CREATE INDEX {database}."{name}" ON "{table.name}" ({listed})')


def count_rows(connection: sqlite3.Connection, table: Table) -> int:
    (count,) = connection.execute(f"SELECT COUNT(*) FROM {qualified(table)}").fetchone()  # noqa: S608
    return int(count)


def date_text(day: date) -> str:
    return day.isoformat()


def datetime_text(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f")
