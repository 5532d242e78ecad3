"""SQL Server connections: one pooled engine per server, reached by host name through the relay.

In Azure the hub reaches ``EDW-NODE-01`` (TP_EDW, TP_LEGION, TP_STAGE on one
instance) and the GP company databases over App Service Hybrid Connections:
the code sees a plain host and port. Queries name tables with Towne Park's
three-part names (``TP_LEGION.dbo.vwPAYROLL_SUMMARY``).

This module is the one place that knows a sandbox stands in for SQL Server
locally (a ``sqlite:`` URL, which ``localdev/sandbox_sql`` and sandbox GP
build): there each database is a SQLite file attached under its own name, a
schema translation maps ``TP_LEGION.dbo`` to the attached ``TP_LEGION``, no
password is asked for, and a stored procedure is answered by the stand-in
query the sandbox keeps for it (``run_procedure``). Connectors and the
composition root never ask which one they have.

Every query has a time limit (Towne Park's jobs use 300 s): pymssql's query
timeout on SQL Server, a progress handler that interrupts the statement on
SQLite.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from opentelemetry.trace import StatusCode
from sqlalchemy import (
    Column,
    Connection,
    Engine,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    event,
    select,
    text,
)
from sqlalchemy.engine import URL, Dialect, make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.sql import Executable, Select

from shared.pipeline.pages import Page
from shared.telemetry import names
from shared.telemetry.spans import span, started

TOWNE_PARK_DATABASES = ("TP_EDW", "TP_LEGION", "TP_STAGE")
_SQLITE_CHECK_EVERY = 10_000  # virtual-machine steps between time-limit checks


class QueryTimeoutError(TimeoutError):
    """A query ran past its time limit and was stopped."""


def connect_sql(
    url: str,
    password: Callable[[], str],
    timeout_seconds: int,
    databases: Sequence[str] = TOWNE_PARK_DATABASES,
) -> Engine:
    """The pooled engine for one server; the password (a Key Vault secret) is asked for only when the
    server needs one. ``databases`` are the instance's databases a sandbox attaches beside the
    URL's file; none for a server of one database (a GP company)."""
    if make_url(url).get_backend_name() == "sqlite":
        return sql_server_engine(url, None, timeout_seconds, databases)
    return sql_server_engine(url, password(), timeout_seconds, databases)


def sql_server_engine(
    url: str,
    password: str | None,
    timeout_seconds: int,
    databases: Sequence[str] = TOWNE_PARK_DATABASES,
) -> Engine:
    """The pooled engine for one server; ``url`` has no password (it comes from the SecretStore)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sandbox_engine(parsed, timeout_seconds, databases)
    if password is not None:
        parsed = parsed.set(password=password)
    return create_engine(
        parsed,
        pool_pre_ping=True,
        pool_recycle=1800,
        connect_args={"timeout": timeout_seconds, "login_timeout": 30},
    )


def _sandbox_engine(url: URL, timeout_seconds: int, databases: Sequence[str]) -> Engine:
    """The sandbox: ``sqlite:///<folder>/TP_EDW.sqlite``; every database of ``databases`` in that
    folder is attached under its own name, as the databases of one SQL Server instance are. With
    no ``databases`` the URL's own file is the server's one database."""
    if not databases:
        engine = create_engine(url)
        event.listen(
            engine, "connect", lambda connection, _: _limit_statement_time(connection, timeout_seconds)
        )
        return engine
    folder = Path(url.database or "").parent
    schemas = {f"{database}.dbo": database for database in databases}
    engine = create_engine("sqlite://", execution_options={"schema_translate_map": schemas})

    @event.listens_for(engine, "connect")
    def attach_and_limit(connection: sqlite3.Connection, _: Any) -> None:
        for database in databases:
            connection.execute(f"ATTACH DATABASE ? AS {database}", (str(folder / f"{database}.sqlite"),))
        _limit_statement_time(connection, timeout_seconds)

    return engine


# The sandbox's answers to stored procedures: the query each one stands for, by procedure name.
STAND_INS = Table(
    "HUB_PROCEDURE_STAND_INS",
    MetaData(),
    Column("PROCEDURE_NAME", String(200), primary_key=True),
    Column("QUERY", Text, nullable=False),
    schema="TP_EDW.dbo",
)


@dataclass(frozen=True)
class StoredProcedure:
    """A procedure the hub runs, by its three-part name, with its parameters in the order it takes them."""

    name: str
    parameters: tuple[str, ...]


def run_procedure(
    connection: Connection, procedure: StoredProcedure, arguments: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """``EXEC`` the procedure with bound parameters on SQL Server; on a sandbox, run the stand-in query
    the sandbox keeps for it (same named parameters), or fail naming the missing stand-in."""
    with span(
        names.SPAN_SQL_QUERY, {names.DB_SYSTEM: connection.dialect.name, names.PROCEDURE: procedure.name}
    ) as query:
        rows = _run_procedure(connection, procedure, arguments)
        query.set_attribute(names.ROWS, len(rows))
        return rows


def _run_procedure(
    connection: Connection, procedure: StoredProcedure, arguments: Mapping[str, Any]
) -> list[dict[str, Any]]:
    if connection.dialect.name != "sqlite":
        bound = ", ".join(f"@{name} = :{name}" for name in procedure.parameters)
        return [
            dict(row)
            for row in connection.execute(text(f"EXEC {procedure.name} {bound}"), dict(arguments)).mappings()
        ]
    query = connection.execute(
        select(STAND_INS.c.QUERY).where(STAND_INS.c.PROCEDURE_NAME == procedure.name)
    ).scalar_one_or_none()
    if query is None:
        raise LookupError(f"the sandbox has no stand-in for {procedure.name}")
    return [dict(row) for row in connection.execute(text(query), dict(arguments)).mappings()]


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
    for page in stream_pages(engine, statement, page_rows, parameters):
        yield list(page)


def stream_pages(
    engine: Engine, statement: Executable, page_rows: int = 5000, parameters: Mapping[str, Any] | None = None
) -> Iterator[Page]:
    """``stream_rows`` as the driver fetched them: each page's rows as tuples, its column names once.

    A stream whose ``read`` yields these and that declares ``transform_page``
    has each page validated by column (``shared.pipeline.pages``), the fast
    path for a large table; any other stream reads a ``Page`` as row mappings.
    A select whose columns SQLAlchemy would not convert (plain numbers and
    text, most of what the hub reads) is fetched from the driver's cursor
    itself: SQLAlchemy's row objects cost about as much as the fetch.
    """
    query = started(names.SPAN_SQL_QUERY, {names.DB_SYSTEM: engine.dialect.name})
    rows = 0
    try:
        with engine.connect() as connection:
            raw = _needs_no_conversion(statement, engine.dialect)
            options = {} if raw else {"stream_results": True, "yield_per": page_rows}
            result = connection.execution_options(**options).execute(statement, dict(parameters or {}))
            # plain str: SQLAlchemy's names are a str subclass that orjson refuses as a key (a quarantined row)
            columns = tuple(map(str, result.keys()))
            try:
                for partition in _driver_pages(result.cursor, page_rows) if raw else result.partitions():
                    rows += len(partition)
                    yield Page(columns, partition)
            except (OperationalError, engine.dialect.loaded_dbapi.OperationalError) as error:
                if "interrupted" in str(getattr(error, "orig", error)):
                    raise QueryTimeoutError("the query ran past its time limit and was stopped") from None
                raise
    except Exception as error:
        query.record_exception(error)
        query.set_status(StatusCode.ERROR)
        raise
    finally:
        query.set_attribute(names.ROWS, rows)
        query.end()


def _needs_no_conversion(statement: Executable, dialect: Dialect) -> bool:
    """True for a select whose every column the driver already returns as SQLAlchemy would."""
    if not isinstance(statement, Select):
        return False
    return all(
        column.type.dialect_impl(dialect).result_processor(dialect, None) is None
        for column in statement.selected_columns
    )


def _driver_pages(cursor: Any, page_rows: int) -> Iterator[Sequence[Any]]:
    while page := cursor.fetchmany(page_rows):
        yield page
