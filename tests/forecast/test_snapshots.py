"""Forecast snapshots in the sandbox's TP_STAGE: appended, idempotent, all-or-nothing, the latest per site shown.

The sandbox's TP_STAGE gets its tables and view from the DDL file that ships for SQL Server, and the
checks read the tables and the view with plain SQL, not through the writer.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError

from localdev.sandbox_sql import sandbox_url
from localdev.sandbox_sql.forecast_snapshots import create_forecast_snapshots
from localdev.sandbox_sql.loading import open_databases
from shared.forecast.snapshots import (
    ForecastLine,
    ForecastSnapshots,
    Snapshot,
    snapshot_heads,
    snapshot_id,
    snapshot_lines,
)
from shared.sql.engines import TOWNE_PARK_DATABASES, sql_server_engine
from shared.sql.tables import vw_forecast_consolidated

CALCULATED = datetime(2026, 11, 30, 6, 0, 0, 123000, tzinfo=UTC)
WATERMARKS = {"bs_budgetmonthlies": "2026-11-29T04:00:00Z", "bs_glactuals": None}


@pytest.fixture
def stage(tmp_path: Path) -> Iterator[tuple[Engine, sqlite3.Connection]]:
    for database in TOWNE_PARK_DATABASES:
        sqlite3.connect(tmp_path / f"{database}.sqlite").close()
    with closing(open_databases(tmp_path)) as connection:
        create_forecast_snapshots(connection)
        connection.execute("COMMIT")
    engine = sql_server_engine(sandbox_url(tmp_path), None, 60)
    reader = sqlite3.connect(":memory:", isolation_level=None)
    reader.execute("ATTACH DATABASE ? AS TP_STAGE", (str(tmp_path / "TP_STAGE.sqlite"),))
    with closing(reader):
        yield engine, reader
    engine.dispose()


def lines(*rows: tuple[str, str, str, str]) -> tuple[ForecastLine, ...]:
    return tuple(
        ForecastLine(site, period, category, Decimal(balance)) for site, period, category, balance in rows
    )


def snapshot(at: datetime, year: int, *rows: tuple[str, str, str, str]) -> Snapshot:
    made = lines(*rows)
    return Snapshot(snapshot_id(at, year, made), at, year, WATERMARKS, made)


def view(reader: sqlite3.Connection) -> set[tuple[str, str, str, float, str]]:
    return set(reader.execute("SELECT * FROM TP_STAGE.vwHUB_FORECAST_CONSOLIDATED"))


FIRST = (
    ("0170", "202611", "PAYROLL", "21000.00"),
    ("0170", "202611", "INTERNAL REVENUE", "50000.00"),
    ("0171", "202611", "PAYROLL", "9100.25"),
)


def test_the_view_keeps_vw_forecast_consolidated_s_columns(stage: tuple[Engine, sqlite3.Connection]) -> None:
    _, reader = stage
    columns = [
        row[0] for row in reader.execute("SELECT * FROM TP_STAGE.vwHUB_FORECAST_CONSOLIDATED").description
    ]
    assert columns == [column.name for column in vw_forecast_consolidated.columns]


def test_the_ddl_creates_the_tables_the_writer_declares(stage: tuple[Engine, sqlite3.Connection]) -> None:
    _, reader = stage
    for table in (snapshot_heads, snapshot_lines):
        created = reader.execute(f"PRAGMA TP_STAGE.table_info({table.name})").fetchall()
        assert [(name, bool(not_null), bool(key)) for _, name, _, not_null, _, key in created] == [
            (column.name, not column.nullable, column.primary_key) for column in table.columns
        ], table.name


def test_snapshots_append_the_latest_per_site_shows_and_a_rewrite_changes_nothing(
    stage: tuple[Engine, sqlite3.Connection],
) -> None:
    engine, reader = stage
    snapshots = ForecastSnapshots(engine, lambda: CALCULATED + timedelta(seconds=2))
    first = snapshot(CALCULATED, 2026, *FIRST)
    assert snapshots.write(first).written
    loaded = "2026-11-30 06:00:00.123000"
    assert view(reader) == {
        (site, period, category, float(balance), loaded) for site, period, category, balance in FIRST
    }
    head = reader.execute(
        "SELECT FORECAST_YEAR, INPUT_WATERMARKS, LINE_COUNT, COMPLETED_AT FROM TP_STAGE.HUB_FORECAST_SNAPSHOT"
    ).fetchall()
    assert head == [
        (
            2026,
            '{"bs_budgetmonthlies":"2026-11-29T04:00:00Z","bs_glactuals":null}',
            3,
            "2026-11-30 06:00:02.123000",
        )
    ]

    again = snapshots.write(first)
    assert (again.written, again.lines) == (False, 3)
    assert reader.execute("SELECT count(*) FROM TP_STAGE.HUB_FORECAST_SNAPSHOT_LINE").fetchone() == (3,)

    later = CALCULATED + timedelta(hours=1)
    second = snapshot(later, 2026, ("0170", "202611", "PAYROLL", "21500.00"))
    previous_year = snapshot(later, 2025, ("0171", "202512", "PAYROLL", "8000.00"))
    assert snapshots.write(second).written and snapshots.write(previous_year).written
    shown = view(reader)
    assert ("0170", "202611", "PAYROLL", 21500.0, "2026-11-30 07:00:00.123000") in shown
    assert not any(row[0] == "0170" and row[4] == loaded for row in shown)  # 0170's older snapshot is hidden
    assert ("0171", "202611", "PAYROLL", 9100.25, loaded) in shown  # 0171 is only in the first
    assert ("0171", "202512", "PAYROLL", 8000.0, "2026-11-30 07:00:00.123000") in shown  # another year
    assert reader.execute("SELECT count(*) FROM TP_STAGE.HUB_FORECAST_SNAPSHOT").fetchone() == (3,)


def test_a_write_that_fails_midway_leaves_the_previous_snapshot_visible(
    stage: tuple[Engine, sqlite3.Connection],
) -> None:
    engine, reader = stage
    snapshots = ForecastSnapshots(engine, lambda: CALCULATED, batch_rows=2)
    snapshots.write(snapshot(CALCULATED, 2026, *FIRST))
    before = view(reader)
    later = CALCULATED + timedelta(hours=1)
    # The third line repeats the first's key: the second batch breaks the primary key.
    broken = snapshot(
        later,
        2026,
        ("0170", "202611", "PAYROLL", "1.00"),
        ("0171", "202611", "PAYROLL", "2.00"),
        ("0170", "202611", "PAYROLL", "3.00"),
    )

    with pytest.raises(IntegrityError):
        snapshots.write(broken)

    assert view(reader) == before
    assert reader.execute(
        "SELECT count(*) FROM TP_STAGE.HUB_FORECAST_SNAPSHOT_LINE WHERE SNAPSHOT_ID = ?", (broken.id,)
    ).fetchone() == (0,)
    assert reader.execute("SELECT count(*) FROM TP_STAGE.HUB_FORECAST_SNAPSHOT").fetchone() == (1,)


def test_snapshot_ids_sort_by_calculation_time_and_differ_by_content() -> None:
    early = snapshot_id(CALCULATED, 2026, lines(FIRST[0]))
    late = snapshot_id(CALCULATED + timedelta(milliseconds=1), 2026, lines(FIRST[0]))
    other = snapshot_id(CALCULATED, 2026, lines(FIRST[1]))
    assert early < late and early[:19] == other[:19] and early != other
    assert early.startswith("20261130T060000123Z-")
