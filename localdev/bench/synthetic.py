"""A synthetic SQL source shaped like Legion's payroll summary, for measuring the engine.

``PAYROLL_LINES`` has the columns of ``TP_LEGION.dbo.vwPAYROLL_SUMMARY`` plus a
``LINE_ID`` cursor, in a SQLite file read through SQLAlchemy Core with a
streaming cursor, exactly as the real SQL streams are read. Rows are made
deterministically, so runs are comparable.

The columns are declared as SQLite stores them (dates as ISO text, amounts as
REAL) and the pydantic model turns them into ``date`` and ``Decimal``. SQLite
has neither type, and SQLAlchemy's emulation of them parses every value in
Python, work SQL Server's driver does natively; declaring the emulated types
would measure SQLite's shortcomings rather than the hub.
"""

from __future__ import annotations

import random
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Column, Engine, Float, Integer, MetaData, String, Table, create_engine, select

from shared.pipeline.pages import ValidPage
from shared.pipeline.stream import ReadWindow, Record, Row
from shared.sql.engines import stream_pages

JOB_CODES = ("GSA", "GSC", "CASH", "LDGSC", "SHUTL2", "VALET", "BELL", "DOORMAN", "SUPV", "MGR")
PAY_TYPES = ("REGULAR", "OVERTIME", "DOUBLE OVERTIME", "HOLIDAY", "DIFFERENTIAL", "MEAL PREMIUM")

metadata = MetaData()
payroll_lines = Table(
    "PAYROLL_LINES",
    metadata,
    Column("LINE_ID", Integer, primary_key=True),
    Column("WORK_LOCATION", String(10), nullable=False),
    Column("DATE", String(10), nullable=False),
    Column("TITLE", String(20), nullable=False),
    Column("PAY_TYPE", String(30), nullable=False),
    Column("TOTAL_HOURS", Float, nullable=False),
    Column("TOTAL_DOLLARS", Float, nullable=False),
)


class PayrollLine(BaseModel):
    model_config = ConfigDict(frozen=True)

    LINE_ID: int
    WORK_LOCATION: str = Field(min_length=1, max_length=10)
    DATE: date
    TITLE: str = Field(min_length=1)
    PAY_TYPE: str
    TOTAL_HOURS: Decimal
    TOTAL_DOLLARS: Decimal


def make_source(path: Path, rows: int, seed: int = 7) -> None:
    """Write ``rows`` payroll lines to a fresh SQLite file at ``path``."""
    path.unlink(missing_ok=True)
    metadata.create_all(create_engine(f"sqlite:///{path}"))
    generator = random.Random(seed)
    first_day = date(2024, 12, 1)
    with sqlite3.connect(path) as connection:
        connection.executemany(
            "INSERT INTO PAYROLL_LINES VALUES (?, ?, ?, ?, ?, ?, ?)", _lines(generator, first_day, rows)
        )


def _lines(generator: random.Random, first_day: date, rows: int) -> Iterator[tuple[Any, ...]]:
    per_day = max(1, rows // 730)
    for line_id in range(1, rows + 1):
        hours = round(generator.uniform(0, 12), 2)
        yield (
            line_id,
            f"{generator.randint(1, 899):04d}",
            (first_day + timedelta(days=(line_id - 1) // per_day)).isoformat(),
            generator.choice(JOB_CODES),
            generator.choice(PAY_TYPES),
            hours,
            round(hours * generator.uniform(14, 32), 2),
        )


def reader(engine: Engine, page_rows: int = 5000) -> Callable[[ReadWindow], Iterable[Sequence[Row]]]:
    """The stream's ``read``: lines from the window's start, in cursor order."""

    def read(window: ReadWindow) -> Iterable[Sequence[Row]]:
        statement = select(payroll_lines).order_by(payroll_lines.c.LINE_ID)
        if window.start is not None:
            statement = statement.where(window.start <= payroll_lines.c.LINE_ID)
        if window.end is not None:
            statement = statement.where(window.end > payroll_lines.c.LINE_ID)
        return stream_pages(engine, statement, page_rows)

    return read


def to_payroll_detail(line: PayrollLine) -> Record:
    return {
        "bs_lineid": line.LINE_ID,
        "bs_sitenumber": line.WORK_LOCATION,
        "bs_date": line.DATE.isoformat(),
        "bs_jobcode": line.TITLE,
        "bs_paytype": line.PAY_TYPE,
        "bs_hours": float(line.TOTAL_HOURS),
        "bs_cost": float(line.TOTAL_DOLLARS),
    }


def to_payroll_details(page: ValidPage) -> list[Record | None]:
    """``to_payroll_detail`` for a page checked by column: the dates stay the ISO text SQLite holds
    and the amounts the floats it holds, their wire forms, which is what the record wants."""
    return [
        {
            "bs_lineid": line_id,
            "bs_sitenumber": site,
            "bs_date": day,
            "bs_jobcode": title,
            "bs_paytype": pay_type,
            "bs_hours": float(hours),
            "bs_cost": float(dollars),
        }
        for line_id, site, day, title, pay_type, hours, dollars in zip(
            page.values("LINE_ID"),
            page.values("WORK_LOCATION"),
            page.wire("DATE"),
            page.values("TITLE"),
            page.values("PAY_TYPE"),
            page.wire("TOTAL_HOURS"),
            page.wire("TOTAL_DOLLARS"),
            strict=True,
        )
    ]
