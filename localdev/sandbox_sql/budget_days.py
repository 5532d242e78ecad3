"""The sandbox's answer to ``spBUDGET_DAILY_DETAIL``, which SQLite cannot run: a query of its output.

The procedure's body is not public (DOMAIN.md §4, registry query 1: daily
budget counts and revenue by category). The stand-in (kept in
``HUB_PROCEDURE_STAND_INS``, run by ``shared.sql.engines.run_procedure`` with
the procedure's own parameters) reads the month's statistic accounts from
``BUDGET_FINAL`` (each category's revenue and vehicle-count pair, occupied
rooms 9440) and answers one row per day and category with the month's even,
unrounded share, so the days of a month sum to the budget.
"""

from __future__ import annotations

import sqlite3

from localdev.sandbox_sql.loading import qualified
from shared.connectors.edw.daily_budget_statistics import PROCEDURE
from shared.live_reads.budget import OCCUPIED_ROOMS, OCCUPIED_ROOMS_ACCOUNT, PARKING_CATEGORIES
from shared.sql.engines import STAND_INS

_CATEGORY = " ".join(
    f"WHEN '{account}' THEN '{category.name}'"
    for category in PARKING_CATEGORIES
    for account in (category.revenue_account, category.count_account)
)
_REVENUE_ACCOUNTS = ", ".join(f"'{category.revenue_account}'" for category in PARKING_CATEGORIES)
_ACCOUNTS = ", ".join(
    [f"'{OCCUPIED_ROOMS_ACCOUNT}'"]
    + [f"'{account}'" for c in PARKING_CATEGORIES for account in (c.revenue_account, c.count_account)]
)
_FIRST_DAY = "date(substr(:PERIOD, 1, 4) || '-' || substr(:PERIOD, 5, 2) || '-01')"
# Fixed text built from the account table; the site and period are bound parameters.
STAND_IN_QUERY = f"""
WITH RECURSIVE days(DAY) AS (
    SELECT {_FIRST_DAY}
    UNION ALL SELECT date(DAY, '+1 day') FROM days WHERE date(DAY, '+1 day') < date({_FIRST_DAY}, '+1 month')
),
month AS (
    SELECT CASE MAIN_ACCOUNT {_CATEGORY} WHEN '{OCCUPIED_ROOMS_ACCOUNT}' THEN '{OCCUPIED_ROOMS}' END
               AS REVENUE_CATEGORY,
           SUM(CASE WHEN MAIN_ACCOUNT IN ({_REVENUE_ACCOUNTS}) THEN BALANCE ELSE 0 END) AS REVENUE,
           SUM(CASE WHEN MAIN_ACCOUNT IN ({_REVENUE_ACCOUNTS}) THEN 0 ELSE BALANCE END) AS VEHICLECOUNT
    FROM TP_EDW.BUDGET_FINAL
    WHERE COST_CENTER = :COST_CENTER AND PERIOD = :PERIOD AND MAIN_ACCOUNT IN ({_ACCOUNTS})
    GROUP BY 1
),
length AS (SELECT COUNT(*) AS DAYS FROM days)
SELECT days.DAY AS DATE, month.REVENUE_CATEGORY,
       month.VEHICLECOUNT * 1.0 / length.DAYS AS VEHICLECOUNT,
       CASE WHEN month.REVENUE_CATEGORY = '{OCCUPIED_ROOMS}' THEN NULL
            ELSE month.REVENUE * 1.0 / length.DAYS END AS REVENUE
FROM month, days, length
ORDER BY days.DAY, month.REVENUE_CATEGORY
"""  # noqa: S608


def write_budget_daily_detail(connection: sqlite3.Connection) -> None:
    """Register the stand-in (the stand-in table is made with the GP statistics' stand-in)."""
    connection.execute(
        f"INSERT INTO {qualified(STAND_INS)} VALUES (?, ?)",  # noqa: S608
        (PROCEDURE.name, STAND_IN_QUERY),
    )
