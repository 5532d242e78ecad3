"""The output of ``spJoin_GP_STATS_with_GL_ACCOUNTS`` for the sandbox EDW, which cannot run the procedure.

The rows go to the table ``GP_STATS_WITH_GL_ACCOUNTS`` with a ``PERIOD_START``
column for the procedure's date filter, and the stand-in query that answers
the procedure from it goes to ``HUB_PROCEDURE_STAND_INS``
(``shared.sql.engines.run_procedure`` runs it with the procedure's parameters).

A few hundred unit-statistic rows a month for the three months up to the
sandbox's end date: the world's sites' occupied rooms and parking counts, on
GL strings built as the billing accounts are (GL string + account + '-' +
site). Every row's account is 'active', so a month posts; tests add the rows
that must stop one.
"""

from __future__ import annotations

import random
import sqlite3
from datetime import date

from sqlalchemy import Column, Date, MetaData, Numeric, String, Table

from localdev.sandbox_sql.accounts import BY_NUMBER
from localdev.sandbox_sql.loading import insert, qualified
from localdev.sandbox_sql.world import World
from shared.sql.engines import STAND_INS
from shared.workflows.gp_posting.unit_statistics import OUTPUT_COLUMNS, PROCEDURE

sandbox_statistics = Table(
    "GP_STATS_WITH_GL_ACCOUNTS",
    MetaData(),
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
# Fixed column names; the dates are bound parameters.
_COLUMNS = ", ".join(OUTPUT_COLUMNS)
STAND_IN_QUERY = f"SELECT {_COLUMNS} FROM TP_EDW.GP_STATS_WITH_GL_ACCOUNTS WHERE PERIOD_START BETWEEN :StartDate AND :EndDate"  # noqa: S608
MONTHS = 3
ROWS_PER_MONTH = 300
STATISTIC_ACCOUNTS = ("9440", "9510", "9550", "9570")
_CATEGORIES = {"9440": "ROOMS", "9510": "VALET", "9550": "SELF", "9570": "SELF"}


def write_gp_statistics(
    connection: sqlite3.Connection, rng: random.Random, world: World, end_date: date
) -> None:
    columns = [column.name for column in sandbox_statistics.columns]
    definitions = ", ".join(f'"{name}"' for name in columns)
    connection.execute(f"CREATE TABLE {qualified(sandbox_statistics)} ({definitions})")
    sites = world.sites[: ROWS_PER_MONTH // len(STATISTIC_ACCOUNTS)]
    rows = []
    for month in _months(end_date):
        for site in sites:
            for account in STATISTIC_ACCOUNTS:
                rows.append(
                    (
                        month.isoformat(),
                        site.number,
                        account,
                        "STATISTICS",
                        _CATEGORIES[account],
                        f"{site.gl_string}{account}-{site.number}",
                        rng.randint(1, 9000),
                        BY_NUMBER[account].name,
                        "active",
                    )
                )
    insert(connection, sandbox_statistics, columns, rows)
    connection.execute(
        f"CREATE TABLE {qualified(STAND_INS)} (PROCEDURE_NAME TEXT PRIMARY KEY, QUERY TEXT NOT NULL)"
    )
    stand_in = (PROCEDURE.name, STAND_IN_QUERY)
    connection.execute(f"INSERT INTO {qualified(STAND_INS)} VALUES (?, ?)", stand_in)  # noqa: S608


def _months(end_date: date) -> list[date]:
    months = [end_date.replace(day=1)]
    while len(months) < MONTHS:
        previous = months[-1]
        months.append(date(previous.year - (previous.month == 1), (previous.month - 2) % 12 + 1, 1))
    return months
