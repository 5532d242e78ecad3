"""Each calculated forecast, written back to the EDW as an append-only snapshot in TP_STAGE.

The seed's open point: "the new forecast output must keep the
``vwFORECAST_CONSOLIDATED`` schema" (DOMAIN.md §4), so billing's forecast check
and Power BI read it unchanged. The hub owns two tables and a view
(``infra/sql/tp_stage_forecast_snapshots.sql``, run by a DBA; the sandbox runs
the same file): a snapshot's head (id, calculated at, year, the inputs'
watermarks, when it completed) and its lines (cost center, period yyyyMM,
summary category, ``FD_BALANCE``); ``vwHUB_FORECAST_CONSOLIDATED`` shows each
site's latest complete snapshot of a year.

A snapshot is written in one transaction: its head (not yet complete), its
lines in ``executemany`` batches, then the head marked complete with its line
count. A failure anywhere rolls all of it back, and the view, which only
reads complete snapshots, keeps showing the previous one. Writing a snapshot
id that is already complete does nothing, so a retried calculation never
doubles a snapshot. Ids sort by calculation time (``20261203T140553123Z-…``),
which is how the view finds the latest.

SQLAlchemy sends each batch as one ``executemany``; on pymssql it folds the
rows into multi-row INSERTs ("insertmanyvalues"), the batching pyodbc's
``fast_executemany`` gives.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import orjson
from sqlalchemy import (
    DECIMAL,
    INTEGER,
    NVARCHAR,
    VARCHAR,
    Column,
    DateTime,
    Engine,
    MetaData,
    Table,
    delete,
    insert,
    select,
    update,
)
from sqlalchemy.dialects import mssql

STAGE = "TP_STAGE.dbo"
BATCH_ROWS = 1000

_metadata = MetaData()
_DATETIME2 = DateTime().with_variant(mssql.DATETIME2(precision=3), "mssql")  # type: ignore[no-untyped-call]
snapshot_heads = Table(
    "HUB_FORECAST_SNAPSHOT",
    _metadata,
    Column("SNAPSHOT_ID", NVARCHAR(64), primary_key=True),
    Column("CALCULATED_AT", _DATETIME2, nullable=False),
    Column("FORECAST_YEAR", INTEGER, nullable=False),
    Column("INPUT_WATERMARKS", NVARCHAR(4000), nullable=False),
    Column("LINE_COUNT", INTEGER),
    Column("COMPLETED_AT", _DATETIME2),
    schema=STAGE,
)
snapshot_lines = Table(
    "HUB_FORECAST_SNAPSHOT_LINE",
    _metadata,
    Column("SNAPSHOT_ID", NVARCHAR(64), primary_key=True),
    Column("COST_CENTER", VARCHAR(10), primary_key=True),
    Column("PERIOD", VARCHAR(6), primary_key=True),
    Column("IS_SUMMARY_CATEGORY", NVARCHAR(50), primary_key=True),
    Column("FD_BALANCE", DECIMAL(18, 2), nullable=False),
    schema=STAGE,
)


@dataclass(frozen=True)
class ForecastLine:
    """One line of a snapshot, in vwFORECAST_CONSOLIDATED's terms."""

    cost_center: str
    period: str  # yyyyMM
    category: str
    balance: Decimal


@dataclass(frozen=True)
class Snapshot:
    id: str
    calculated_at: datetime
    year: int
    watermarks: dict[str, str | None]
    lines: tuple[ForecastLine, ...]


@dataclass(frozen=True)
class WrittenSnapshot:
    id: str
    lines: int
    written: bool  # False: the snapshot was complete already, nothing was written


def snapshot_id(calculated_at: datetime, year: int, lines: Sequence[ForecastLine]) -> str:
    """Sorts by calculation time; the digest tells two calculations of the same millisecond apart."""
    content = orjson.dumps(
        [year, *((ln.cost_center, ln.period, ln.category, str(ln.balance)) for ln in lines)]
    )
    millisecond = calculated_at.microsecond // 1000
    return f"{calculated_at:%Y%m%dT%H%M%S}{millisecond:03d}Z-{hashlib.sha256(content).hexdigest()[:16]}"


class ForecastSnapshots:
    """Writes snapshots into TP_STAGE through the EDW engine (the same SQL Server instance)."""

    def __init__(self, engine: Engine, now: Callable[[], datetime], batch_rows: int = BATCH_ROWS) -> None:
        self._engine = engine
        self._now = now
        self._batch_rows = batch_rows

    def write(self, snapshot: Snapshot) -> WrittenSnapshot:
        """Append ``snapshot`` unless it is complete already; all of it or, on failure, none of it."""
        with self._engine.begin() as connection:
            done = connection.execute(
                select(snapshot_heads.c.LINE_COUNT).where(
                    snapshot_heads.c.SNAPSHOT_ID == snapshot.id, snapshot_heads.c.COMPLETED_AT.is_not(None)
                )
            ).first()
            if done is not None:
                return WrittenSnapshot(snapshot.id, int(done[0] or 0), written=False)
            connection.execute(delete(snapshot_lines).where(snapshot_lines.c.SNAPSHOT_ID == snapshot.id))
            connection.execute(delete(snapshot_heads).where(snapshot_heads.c.SNAPSHOT_ID == snapshot.id))
            connection.execute(
                insert(snapshot_heads),
                {
                    "SNAPSHOT_ID": snapshot.id,
                    "CALCULATED_AT": snapshot.calculated_at.replace(tzinfo=None),
                    "FORECAST_YEAR": snapshot.year,
                    "INPUT_WATERMARKS": orjson.dumps(
                        snapshot.watermarks, option=orjson.OPT_SORT_KEYS
                    ).decode(),
                },
            )
            rows = [
                {
                    "SNAPSHOT_ID": snapshot.id,
                    "COST_CENTER": line.cost_center,
                    "PERIOD": line.period,
                    "IS_SUMMARY_CATEGORY": line.category,
                    "FD_BALANCE": line.balance,
                }
                for line in snapshot.lines
            ]
            for start in range(0, len(rows), self._batch_rows):
                connection.execute(insert(snapshot_lines), rows[start : start + self._batch_rows])
            connection.execute(
                update(snapshot_heads)
                .where(snapshot_heads.c.SNAPSHOT_ID == snapshot.id)
                .values(LINE_COUNT=len(rows), COMPLETED_AT=self._now().replace(tzinfo=None))
            )
        return WrittenSnapshot(snapshot.id, len(rows), written=True)
