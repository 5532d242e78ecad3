"""The unit statistics of a month, from ``spJoin_GP_STATS_with_GL_ACCOUNTS`` on the EDW (DOMAIN.md §3 B).

Towne Park's UnitAccountsBatchFlow runs ``[dbo].[spJoin_GP_STATS_with_GL_ACCOUNTS]
@StartDate, @EndDate`` and reads ``SITE, MAIN_ACCOUNT, REVENUE_CATEGORY,
CATEGORY, GL_STRING, VALUE, ACCOUNT_DESCRIPTION, STATUS``. The procedure's body
is not known, so on SQL Server the hub runs it exactly so, with bound
parameters (the month's first and last day; that the flow passes those two
dates is unconfirmed). The sandbox EDW cannot run a procedure: it keeps the
procedure's output in the table ``GP_STATS_WITH_GL_ACCOUNTS``, with a
``PERIOD_START`` column standing in for the procedure's date filter.
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Column, Date, Engine, MetaData, Numeric, String, Table, select, text

from shared.connectors.great_plains.statistics import UnitStatistic

PROCEDURE = text("EXEC TP_EDW.dbo.spJoin_GP_STATS_with_GL_ACCOUNTS @StartDate = :start, @EndDate = :end")
OUTPUT_COLUMNS = (
    "SITE", "MAIN_ACCOUNT", "REVENUE_CATEGORY", "CATEGORY", "GL_STRING", "VALUE", "ACCOUNT_DESCRIPTION", "STATUS",
)  # fmt: skip

sandbox_metadata = MetaData()
sandbox_statistics = Table(
    "GP_STATS_WITH_GL_ACCOUNTS",
    sandbox_metadata,
    Column("PERIOD_START", Date, nullable=False),
    Column("SITE", String(10)),
    Column("MAIN_ACCOUNT", String(10)),
    Column("REVENUE_CATEGORY", String(50)),
    Column("CATEGORY", String(50)),
    Column("GL_STRING", String(40)),
    Column("VALUE", Numeric(18, 4)),
    Column("ACCOUNT_DESCRIPTION", String(100)),
    Column("STATUS", String(20)),
    schema="TP_EDW.dbo",
)


class UnitStatisticsSource:
    """Reads one month's statistics from the EDW engine (SQL Server, or the sandbox's SQLite)."""

    def __init__(self, edw: Engine) -> None:
        self._edw = edw

    def month(self, period: date) -> list[UnitStatistic]:
        start = period.replace(day=1)
        end = start.replace(day=calendar.monthrange(start.year, start.month)[1])
        with self._edw.connect() as connection:
            if self._edw.dialect.name == "sqlite":
                columns = [sandbox_statistics.c[name] for name in OUTPUT_COLUMNS]
                query = select(*columns).where(sandbox_statistics.c.PERIOD_START.between(start, end))
                rows = connection.execute(query).mappings().all()
            else:
                rows = connection.execute(PROCEDURE, {"start": start, "end": end}).mappings().all()
        return [_statistic(dict(row)) for row in rows]


def _statistic(row: Mapping[str, Any]) -> UnitStatistic:
    value = Decimal(str(row["VALUE"])) if row["VALUE"] is not None else Decimal(0)
    status = row["STATUS"]
    return UnitStatistic(
        site=str(row["SITE"] or "").strip(),
        main_account=str(row["MAIN_ACCOUNT"] or "").strip(),
        gl_string=str(row["GL_STRING"] or "").strip(),
        value=value,
        status=str(status).strip() if status is not None else None,
        account_description=str(row["ACCOUNT_DESCRIPTION"] or ""),
        category=str(row["CATEGORY"] or ""),
        revenue_category=str(row["REVENUE_CATEGORY"] or ""),
    )
