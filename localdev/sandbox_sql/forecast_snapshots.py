"""The hub's forecast snapshot tables and view in the sandbox's TP_STAGE, from the very DDL a DBA runs.

``infra/sql/tp_stage_forecast_snapshots.sql`` is the one definition: each of
its batches is run here with the created object's ``dbo.`` turned into the
attached database's name and the view's own ``dbo.`` references left
unqualified (SQLite resolves them in the view's database, and a view naming
``TP_STAGE.`` could not be read from the file opened on its own), so the
sandbox cannot drift from what ships for SQL Server.
"""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

DDL = Path(__file__).resolve().parents[2] / "infra" / "sql" / "tp_stage_forecast_snapshots.sql"
_BATCH_END = re.compile(r"^GO\s*$", re.MULTILINE)
_COMMENT = re.compile(r"^--.*$", re.MULTILINE)


def ddl_batches(path: Path = DDL) -> list[str]:
    """The file's statements, one per ``GO`` batch, comments left out."""
    text = _COMMENT.sub("", path.read_text(encoding="utf-8"))
    return [batch.strip() for batch in _BATCH_END.split(text) if batch.strip()]


def create_forecast_snapshots(connection: sqlite3.Connection, database: str = "TP_STAGE") -> None:
    """Create the snapshot tables and the latest-snapshot view in ``database`` (an attached TP_STAGE)."""
    for batch in ddl_batches():
        created, body = batch.split("dbo.", 1)
        connection.execute(f"{created}{database}.{body.replace('dbo.', '')}")
