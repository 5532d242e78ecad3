"""``TP_STAGE.dbo.HUB_SALESFORCE_PIPELINE`` as SQLAlchemy reads and writes it.

The DDL a DBA runs is ``infra/sql/tp_stage_salesforce_pipeline.sql`` (the
sandbox runs the same file); this declaration names the same columns.
"""

from __future__ import annotations

from sqlalchemy import DECIMAL, INTEGER, NVARCHAR, VARCHAR, Column, DateTime, MetaData, Table
from sqlalchemy.dialects import mssql

STAGE = "TP_STAGE.dbo"
NO_REGION = ""  # an opportunity without Region__c: a key column cannot be NULL
NO_OPENING = ""  # an opportunity without Expected_Opening__c

_metadata = MetaData()
_DATETIME2 = DateTime().with_variant(mssql.DATETIME2(precision=3), "mssql")  # type: ignore[no-untyped-call]
pipeline_rows = Table(
    "HUB_SALESFORCE_PIPELINE",
    _metadata,
    Column("STAGE", NVARCHAR(40), primary_key=True),
    Column("REGION", NVARCHAR(80), primary_key=True),
    Column("OPENING_MONTH", VARCHAR(7), primary_key=True),
    Column("OPPORTUNITIES", INTEGER, nullable=False),
    Column("AMOUNT", DECIMAL(18, 2), nullable=False),
    Column("WEIGHTED_AMOUNT", DECIMAL(18, 2), nullable=False),
    Column("UPDATED_AT", _DATETIME2, nullable=False),
    schema=STAGE,
)
