"""The unit statistics of a month, from ``spJoin_GP_STATS_with_GL_ACCOUNTS`` on the EDW (DOMAIN.md §3 B).

Towne Park's UnitAccountsBatchFlow runs ``[dbo].[spJoin_GP_STATS_with_GL_ACCOUNTS]
@StartDate, @EndDate`` and reads ``SITE, MAIN_ACCOUNT, REVENUE_CATEGORY,
CATEGORY, GL_STRING, VALUE, ACCOUNT_DESCRIPTION, STATUS``. The procedure's body
is not known, so on SQL Server the hub runs it exactly so, with bound
parameters (the month's first and last day; that the flow passes those two
dates is unconfirmed). The sandbox EDW cannot run a procedure; how it answers
one is ``shared.sql.engines.run_procedure``'s business, not this module's.
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine

from shared.sql.engines import StoredProcedure, run_procedure
from shared.workflows.gp_posting.statistics import UnitStatistic

PROCEDURE = StoredProcedure("TP_EDW.dbo.spJoin_GP_STATS_with_GL_ACCOUNTS", ("StartDate", "EndDate"))
OUTPUT_COLUMNS = (
    "SITE", "MAIN_ACCOUNT", "REVENUE_CATEGORY", "CATEGORY", "GL_STRING", "VALUE", "ACCOUNT_DESCRIPTION", "STATUS",
)  # fmt: skip


class UnitStatisticsSource:
    """Reads one month's statistics from the EDW."""

    def __init__(self, edw: Engine) -> None:
        self._edw = edw

    def month(self, period: date) -> list[UnitStatistic]:
        start = period.replace(day=1)
        end = start.replace(day=calendar.monthrange(start.year, start.month)[1])
        with self._edw.connect() as connection:
            rows = run_procedure(connection, PROCEDURE, {"StartDate": start, "EndDate": end})
        return [_statistic(row) for row in rows]


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
