"""The hub's weighted Salesforce pipeline table in the sandbox's TP_STAGE, from the very DDL a DBA runs.

``infra/sql/tp_stage_salesforce_pipeline.sql`` is the one definition, run batch
by batch with its ``dbo.`` turned into the attached database's name, as the
forecast snapshots' file is (``forecast_snapshots.py``).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from localdev.sandbox_sql.forecast_snapshots import ddl_batches

DDL = Path(__file__).resolve().parents[2] / "infra" / "sql" / "tp_stage_salesforce_pipeline.sql"


def create_salesforce_pipeline(connection: sqlite3.Connection, database: str = "TP_STAGE") -> None:
    """Create ``HUB_SALESFORCE_PIPELINE`` in ``database`` (an attached TP_STAGE)."""
    for batch in ddl_batches(DDL):
        connection.execute(batch.replace("dbo.", f"{database}.", 1))
