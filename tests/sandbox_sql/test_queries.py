"""Statements written once against ``shared/sql/tables.py`` run on the sandbox and render for SQL Server."""

from __future__ import annotations

import sqlite3
from datetime import date
from decimal import Decimal

from sqlalchemy import Select, and_, bindparam, func, select
from sqlalchemy.dialects import mssql

from localdev.sandbox_sql import SandboxSummary
from shared.sql.engines import sql_server_engine, stream_rows
from shared.sql.tables import shift_entity, vw_payroll_summary

SQL_SERVER = mssql.dialect()  # type: ignore[no-untyped-call]


def payroll_by_job_and_day() -> Select[tuple[str, Decimal, Decimal, date]]:
    """Today's EDW query Id 6 (DOMAIN.md §1): a site's payroll rows for a month, differentials left out."""
    payroll = vw_payroll_summary
    return select(
        payroll.c.TITLE.label("JobCode"),
        payroll.c.TOTAL_HOURS.label("Hours"),
        payroll.c.TOTAL_DOLLARS.label("Cost"),
        payroll.c.DATE,
    ).where(
        payroll.c.WORK_LOCATION == bindparam("WORK_LOCATION"),
        payroll.c.PAY_TYPE.not_in(["DIFFERENTIAL", "MEAL PREMIUM"]),
        payroll.c.DATE >= bindparam("month_start", type_=payroll.c.DATE.type),
        payroll.c.DATE < bindparam("next_month", type_=payroll.c.DATE.type),
    )


def test_query_6_runs_on_the_sandbox_engine(
    small_sandbox: SandboxSummary, databases: sqlite3.Connection
) -> None:
    site = small_sandbox.legion_unpadded_sites[0]
    location = site.lstrip("0")  # Legion stores this site unpadded, as production does for '0170'
    engine = sql_server_engine(small_sandbox.url, None, 300)
    parameters = {
        "WORK_LOCATION": location,
        "month_start": date(2026, 11, 1),
        "next_month": date(2026, 12, 1),
    }

    rows = [row for page in stream_rows(engine, payroll_by_job_and_day(), 500, parameters) for row in page]
    engine.dispose()

    expected = databases.execute(
        "SELECT COUNT(*) FROM TP_LEGION.vwPAYROLL_SUMMARY WHERE WORK_LOCATION = ? "
        "AND PAY_TYPE NOT IN ('DIFFERENTIAL', 'MEAL PREMIUM') "
        "AND DATE >= '2026-11-01' AND DATE < '2026-12-01'",
        (location,),
    ).fetchone()[0]
    assert len(rows) == expected > 0
    assert set(rows[0]) == {"JobCode", "Hours", "Cost", "DATE"}
    assert all(isinstance(row["DATE"], date) and isinstance(row["Hours"], Decimal) for row in rows)
    assert all(date(2026, 11, 1) <= row["DATE"] <= small_sandbox.last_payroll_day for row in rows)


def test_query_6_renders_three_part_names_and_bound_parameters_for_sql_server() -> None:
    compiled = payroll_by_job_and_day().compile(dialect=SQL_SERVER)
    sql = str(compiled)

    # SQLAlchemy brackets what needs it: [TP_LEGION].dbo.[vwPAYROLL_SUMMARY] is the same object as
    # [TP_LEGION].[dbo].[vwPAYROLL_SUMMARY] to SQL Server.
    assert "FROM [TP_LEGION].dbo.[vwPAYROLL_SUMMARY]" in sql
    assert "[TP_LEGION].dbo.[vwPAYROLL_SUMMARY].[WORK_LOCATION] = :WORK_LOCATION" in sql
    assert "DIFFERENTIAL" not in sql and "2026" not in sql  # values travel as parameters, never as text
    assert set(compiled.params) == {"WORK_LOCATION", "PAY_TYPE_1", "month_start", "next_month"}
    assert compiled.params["PAY_TYPE_1"] == ["DIFFERENTIAL", "MEAL PREMIUM"]


def test_query_7_style_shift_hours_skip_deleted_shifts(small_sandbox: SandboxSummary) -> None:
    shifts = shift_entity
    hours = func.round((shifts.c.REGULAR_MINUTES + shifts.c.OVERTIME_MINUTES) / 60.0, 2)
    statement = (
        select(shifts.c.DELETED, func.count().label("shifts"), func.sum(hours).label("hours"))
        .where(and_(shifts.c.YEAR == bindparam("year"), shifts.c.DAY_OF_THE_YEAR.between(305, 334)))
        .group_by(shifts.c.DELETED)
    )
    engine = sql_server_engine(small_sandbox.url, None, 300)
    with engine.connect() as connection:
        by_deleted = {row.DELETED: row for row in connection.execute(statement, {"year": 2026})}
    engine.dispose()

    assert set(by_deleted) == {"No", "Yes"}
    assert by_deleted["Yes"].shifts < by_deleted["No"].shifts / 10
    assert "FROM [TP_LEGION].dbo.[SHIFT_ENTITY]" in str(statement.compile(dialect=SQL_SERVER))
