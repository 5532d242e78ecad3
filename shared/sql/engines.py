"""SQL Server connections: one pooled engine per server, reached by host name through the relay.

In Azure the hub reaches ``EDW-NODE-01`` (TP_EDW, TP_LEGION, TP_STAGE on one
instance) over an App Service Hybrid Connection: the code sees a plain host and
port. Queries name tables with Towne Park's three-part names
(``TP_LEGION.dbo.vwPAYROLL_SUMMARY``); locally the same statements run on the
sandbox, where each database is a SQLite file attached under its own name, and
a schema translation maps ``TP_LEGION.dbo`` to the attached ``TP_LEGION``.

Every query has a time limit (Towne Park's jobs use 300 s): pymssql's query
timeout on SQL Server, a progress handler that interrupts the statement on
SQLite.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.sql import Executable

TOWNE_PARK_DATABASES = ("TP_EDW", "TP_LEGION", "TP_STAGE")
SCHEMAS = {f"{database}.dbo": database for database in TOWNE_PARK_DATABASES}
_SQLITE_CHECK_EVERY = 10_000  # virtual-machine steps between time-limit checks


class QueryTimeoutError(TimeoutError):
    """A query ran past its time limit and was stopped."""


def sql_server_engine(url: str, password: str | None, timeout_seconds: int) -> Engine:
    """The pooled engine for one server; ``url`` has no password (it comes from the SecretStore)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sandbox_engine(parsed, timeout_seconds)
    if password is not None:
        parsed = parsed.set(password=password)
    return create_engine(
        parsed,
        pool_pre_ping=True,
        pool_recycle=1800,
        connect_args={"timeout": timeout_seconds, "login_timeout": 30},
    )


def _sandbox_engine(url: URL, timeout_seconds: int) -> Engine:
    """The sandbox: ``sqlite:///<folder>/TP_EDW.sqlite``; every Towne Park database in that folder is
    attached under its own name, as the databases of one SQL Server instance are."""
    folder = Path(url.database or "").parent
    engine = create_engine("sqlite://", execution_options={"schema_translate_map": SCHEMAS})

    @event.listens_for(engine, "connect")
    def attach_and_limit(connection: sqlite3.Connection, _: Any) -> None:
        for database in TOWNE_PARK_DATABASES:
            connection.execute(f"ATTACH DATABASE ? AS {database}", (str(folder / f"{database}.sqlite"),))
        _limit_statement_time(connection, timeout_seconds)

    return engine


def _limit_statement_time(connection: sqlite3.Connection, timeout_seconds: int) -> None:
    deadline: list[float] = []

    def started(*_: Any) -> None:
        deadline[:] = [time.monotonic() + timeout_seconds]

    def check() -> int:
        return 1 if deadline and time.monotonic() > deadline[0] else 0

    connection.set_progress_handler(check, _SQLITE_CHECK_EVERY)
    connection.set_trace_callback(started)


def stream_rows(
    engine: Engine, statement: Executable, page_rows: int = 5000, parameters: Mapping[str, Any] | None = None
) -> Iterator[list[dict[str, Any]]]:
    """Run ``statement`` and yield its rows page by page, without holding the whole result.

    A server-side cursor (``stream_results``) keeps memory flat however many
    rows the query returns.
    """
    with engine.connect() as connection:
        result = connection.execution_options(stream_results=True, yield_per=page_rows).execute(
            statement, dict(parameters or {})
        )
        columns = list(result.keys())
        try:
            for partition in result.partitions():
                yield [dict(zip(columns, row, strict=True)) for row in partition]
        except OperationalError as error:
            if "interrupted" in str(error.orig):
                raise QueryTimeoutError("the query ran past its time limit and was stopped") from None
            raise
