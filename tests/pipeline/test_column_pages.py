"""The engine's fast path: SQL pages of tuples validated by column, through Azurite and the emulator.

The source is a real SQLite file (the bench's synthetic payroll lines) read
with ``stream_pages``; expected records are built here from ``sqlite3``'s own
rows, not by the code under test.
"""

from __future__ import annotations

import sqlite3
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from azure.storage.blob import BlobServiceClient
from pydantic import BaseModel, Field, field_validator
from sqlalchemy import Date, create_engine, select, type_coerce

from localdev.bench.synthetic import (
    PayrollLine,
    make_source,
    payroll_lines,
    to_payroll_detail,
    to_payroll_details,
)
from shared.connectors.dataverse.sink import DataverseTarget
from shared.pipeline.pages import ValidPage
from shared.pipeline.requests import SyncRequest
from shared.pipeline.run_record import RunMode, RunStatus
from shared.pipeline.stream import ReadWindow, Record, Stream
from shared.sql.engines import stream_pages, stream_rows
from tests.fixtures.servicebus_emulator import ServiceBusEmulator
from tests.pipeline.world import World, build_world

TARGET = DataverseTarget(entity_set="bs_payrolldetails", alternate_key=("bs_lineid",))
ROWS, PAGE_ROWS = 450, 100


@pytest.fixture
def source(tmp_path: Path) -> Path:
    path = tmp_path / "payroll.sqlite"
    make_source(path, ROWS)
    return path


def _read(path: Path) -> Any:
    engine = create_engine(f"sqlite:///{path}")

    def read(window: ReadWindow) -> Any:
        statement = select(payroll_lines).order_by(payroll_lines.c.LINE_ID)
        if window.start is not None:
            statement = statement.where(window.start <= payroll_lines.c.LINE_ID)
        return stream_pages(engine, statement, PAGE_ROWS)

    return read


def _world(blob_service: BlobServiceClient, emulator: ServiceBusEmulator, stream: Stream[Any]) -> World:
    return build_world(blob_service, emulator.connection_string, stream)


def _expected(path: Path) -> dict[tuple[Any, ...], dict[str, Any]]:
    with sqlite3.connect(path) as connection:
        lines = connection.execute(
            "SELECT LINE_ID, WORK_LOCATION, DATE, TITLE, PAY_TYPE, TOTAL_HOURS, TOTAL_DOLLARS FROM PAYROLL_LINES"
        ).fetchall()
    names = ("bs_lineid", "bs_sitenumber", "bs_date", "bs_jobcode", "bs_paytype", "bs_hours", "bs_cost")
    return {(line[0],): dict(zip(names, line, strict=True)) for line in lines}


def test_a_stream_with_transform_page_loads_what_sqlite_holds_and_what_its_row_transform_gives(
    source: Path, blob_service: BlobServiceClient, servicebus_emulator: ServiceBusEmulator
) -> None:
    loaded = {}
    for name, transform_page in (("by_column", to_payroll_details), ("by_row", None)):
        stream = Stream(
            name=f"payroll_{name}",
            model=PayrollLine,
            read=_read(source),
            transform=to_payroll_detail,
            transform_page=transform_page,
            target=TARGET,
            cursor="LINE_ID",
            batch_rows=200,
        )
        world = _world(blob_service, servicebus_emulator, stream)
        record = world.engine.run(SyncRequest(stream.name, mode=RunMode.FULL))
        assert record.extract.read == record.extract.staged == ROWS
        assert [batch.count for batch in record.batches] == [200, 200, 50]
        assert record.watermark_after == ROWS
        assert world.drain_loads() == 3
        loaded[name] = world.table.rows

        again = world.engine.run(SyncRequest(stream.name))  # incremental from the watermark
        assert again.extract.read == 1 and again.extract.unchanged == 1 and again.extract.staged == 0

    assert loaded["by_column"] == loaded["by_row"] == _expected(source)


class CheckedLine(BaseModel):
    LINE_ID: int
    WORK_LOCATION: str = Field(min_length=1, max_length=10)
    TOTAL_HOURS: Decimal


def _marked(way: str) -> Any:
    def to_record(line: CheckedLine) -> Record:
        return {"bs_lineid": line.LINE_ID, "bs_hours": float(line.TOTAL_HOURS), "bs_way": way}

    return to_record


def _page_marked(page: ValidPage) -> list[Record | None]:
    return [
        None if line_id % 50 == 0 else {"bs_lineid": line_id, "bs_hours": hours, "bs_way": "page"}
        for line_id, hours in zip(page.values("LINE_ID"), page.wire("TOTAL_HOURS"), strict=True)
    ]


def test_a_page_with_a_bad_row_goes_row_by_row_and_quarantines_it_with_the_rule(
    source: Path, blob_service: BlobServiceClient, servicebus_emulator: ServiceBusEmulator
) -> None:
    with sqlite3.connect(source) as connection:
        connection.execute("UPDATE PAYROLL_LINES SET WORK_LOCATION = '' WHERE LINE_ID = 150")
    stream = Stream(
        name="payroll_checked",
        model=CheckedLine,
        read=_read(source),
        transform=_marked("row"),
        transform_page=_page_marked,
        target=TARGET,
        cursor="LINE_ID",
    )
    world = _world(blob_service, servicebus_emulator, stream)

    record = world.engine.run(SyncRequest(stream.name, mode=RunMode.FULL))
    world.drain_loads()

    final = world.engine.runs.get(record.id)
    assert final is not None and final.status is RunStatus.PARTIALLY_FAILED
    # the four pages without the bad row skip their multiples of 50 (transform_page said None)
    assert final.extract.quarantined == 1 and final.extract.skipped == 7
    assert final.extract.staged == ROWS - 1 - 7
    assert final.quarantine_path is not None
    (bad,) = world.staging.get(final.quarantine_path).decode().splitlines()
    assert "WORK_LOCATION: String should have at least 1 character" in bad and '"LINE_ID":150' in bad
    ways = {key[0]: row["bs_way"] for key, row in world.table.rows.items()}
    assert {line for line, way in ways.items() if way == "row"} == set(range(101, 201)) - {150}
    assert all(way == "page" for line, way in ways.items() if not 101 <= line <= 200)
    hours = {
        line[0]: line[1]
        for line in sqlite3.connect(source).execute("SELECT LINE_ID, TOTAL_HOURS FROM PAYROLL_LINES")
    }
    assert all(row["bs_hours"] == hours[key[0]] for key, row in world.table.rows.items())


class UppercasedLine(BaseModel):
    LINE_ID: int
    WORK_LOCATION: str

    @field_validator("WORK_LOCATION")
    @classmethod
    def _site(cls, value: str) -> str:
        return f"S{value}"


def test_a_model_with_its_own_validators_is_always_validated_row_by_row(
    source: Path, blob_service: BlobServiceClient, servicebus_emulator: ServiceBusEmulator
) -> None:
    stream = Stream(
        name="payroll_validated",
        model=UppercasedLine,
        read=_read(source),
        transform=lambda line: {"bs_lineid": line.LINE_ID, "bs_sitenumber": line.WORK_LOCATION},
        transform_page=lambda page: [
            {"bs_lineid": line, "bs_sitenumber": "never"} for line in page.values("LINE_ID")
        ],
        target=TARGET,
    )
    world = _world(blob_service, servicebus_emulator, stream)

    world.engine.run(SyncRequest(stream.name))
    world.drain_loads()

    sites = dict(
        sqlite3.connect(source).execute("SELECT LINE_ID, WORK_LOCATION FROM PAYROLL_LINES").fetchall()
    )
    assert {key[0]: row["bs_sitenumber"] for key, row in world.table.rows.items()} == {
        line: f"S{site}" for line, site in sites.items()
    }


def test_a_page_out_of_cursor_order_fails_the_run_naming_the_row(
    source: Path, blob_service: BlobServiceClient, servicebus_emulator: ServiceBusEmulator
) -> None:
    engine = create_engine(f"sqlite:///{source}")
    stream = Stream(
        name="payroll_unordered",
        model=PayrollLine,
        read=lambda _: stream_pages(
            engine, select(payroll_lines).order_by(payroll_lines.c.LINE_ID.desc()), 50
        ),
        transform=to_payroll_detail,
        transform_page=to_payroll_details,
        target=TARGET,
        cursor="LINE_ID",
    )
    world = _world(blob_service, servicebus_emulator, stream)

    record = world.engine.run(SyncRequest(stream.name))

    assert record.status is RunStatus.FAILED and record.error is not None
    assert f"row 2 goes back from {ROWS} to {ROWS - 1}" in record.error.message


def test_stream_pages_keeps_sqlalchemys_conversions_where_a_column_has_one(source: Path) -> None:
    engine = create_engine(f"sqlite:///{source}")
    with sqlite3.connect(source) as connection:
        first = connection.execute(
            "SELECT LINE_ID, DATE FROM PAYROLL_LINES ORDER BY LINE_ID LIMIT 3"
        ).fetchall()
    plain = select(payroll_lines.c.LINE_ID, payroll_lines.c.DATE).order_by(payroll_lines.c.LINE_ID).limit(3)
    (page,) = stream_pages(engine, plain)
    assert page.columns == ("LINE_ID", "DATE") and [tuple(row) for row in page.rows] == first
    typed = select(payroll_lines.c.LINE_ID, type_coerce(payroll_lines.c.DATE, Date).label("DAY")).limit(3)
    (rows,) = stream_rows(engine, typed.order_by(payroll_lines.c.LINE_ID))
    assert rows == [{"LINE_ID": line, "DAY": date.fromisoformat(day)} for line, day in first]
