"""Each live read returns the numbers Towne Park's own SQL (DOMAIN.md §1, §4) gives on the same sandbox.

Towne Park's SQL is written out by hand here, in SQLite's dialect, and run with
plain ``sqlite3`` on the sandbox's files; the reads run through the hub's
engine. Money and hours are compared to the cent.
"""

from __future__ import annotations

import sqlite3
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Engine

from localdev.sandbox_sql import SandboxSummary
from shared.live_reads.reads import LIVE_READS, LiveRead

READS = {read.name: read for read in LIVE_READS}
CENT = 0.01
PAIRS = {  # DOMAIN.md §4: revenue and count statistic accounts per category, with the RSS code group
    "Valet Daily": ("VD", "9411", "9510"),
    "Valet Overnight": ("VO", "9412", "9520"),
    "Valet Monthly": ("VM", "9413", "9530"),
    "Self Daily": ("SD", "9414", "9550"),
    "Self Overnight": ("SO", "9415", "9560"),
    "Self Monthly": ("SM", "9416", "9570"),
}


def run(engine: Engine, name: str, parameters: dict[str, Any]) -> list[dict[str, Any]]:
    """The read as the API serves it: parameters validated from their camelCase names, rows as JSON."""
    read: LiveRead = READS[name]
    return [row.model_dump(mode="json") for row in read.run(engine, read.params.model_validate(parameters))]


def money(value: Any) -> float:
    return round(float(value or 0), 2)


def test_payroll_actuals_are_query_6_summed_by_job_code_and_day(
    edw_engine: Engine, towne_park_sql: sqlite3.Connection, legion_site: str
) -> None:
    unpadded = legion_site.lstrip("0")
    expected = {
        (day, job): (money(hours), money(cost))
        for job, day, hours, cost in towne_park_sql.execute(
            "SELECT TITLE, DATE, SUM(TOTAL_HOURS), SUM(TOTAL_DOLLARS) FROM TP_LEGION.vwPAYROLL_SUMMARY "
            "WHERE WORK_LOCATION IN (?, ?) AND PAY_TYPE NOT IN ('DIFFERENTIAL', 'MEAL PREMIUM') "
            "AND DATE >= '2026-11-01' AND DATE < '2026-12-01' GROUP BY TITLE, DATE",
            (legion_site, unpadded),
        )
    }
    rows = run(edw_engine, "payroll-actuals", {"site": unpadded, "period": "2026-11"})

    assert {
        (row["date"], row["jobCode"]): (money(row["hours"]), money(row["cost"])) for row in rows
    } == expected
    assert len(rows) == len(expected) > 20  # one row per job code and day: summed in SQL
    assert run(edw_engine, "payroll-actuals", {"site": legion_site, "period": "202611"}) == rows


def test_payroll_actuals_leave_out_differentials_and_meal_premiums_but_keep_double_overtime(
    edw_engine: Engine, towne_park_sql: sqlite3.Connection, edw_sandbox: SandboxSummary
) -> None:
    by_pay_type = dict(
        towne_park_sql.execute(
            "SELECT PAY_TYPE, SUM(TOTAL_HOURS) FROM TP_LEGION.vwPAYROLL_SUMMARY "
            "WHERE DATE >= '2026-11-01' AND WORK_LOCATION <> '' GROUP BY PAY_TYPE"  # rows of some site
        ).fetchall()
    )
    assert {"DIFFERENTIAL", "MEAL PREMIUM", "DOUBLE OVERTIME", "REGULAR"} <= set(by_pay_type)
    paid_hours = sum(
        hours for pay_type, hours in by_pay_type.items() if pay_type not in {"DIFFERENTIAL", "MEAL PREMIUM"}
    )
    read_hours = sum(
        row["hours"]
        for site in edw_sandbox.sites
        for row in run(edw_engine, "payroll-actuals", {"site": site, "period": "202611"})
    )
    assert read_hours == pytest.approx(paid_hours, abs=CENT)
    assert read_hours < sum(by_pay_type.values())


def test_scheduled_hours_are_query_7_without_deleted_shifts_and_with_double_overtime(
    edw_engine: Engine, towne_park_sql: sqlite3.Connection, legion_site: str
) -> None:
    # PF/20250512_Forecast_Data_Sources.md's reference SQL, summed by role and day.
    expected = {
        (day, job): (shifts, hours)
        for job, day, shifts, hours in towne_park_sql.execute(
            "SELECT WORK_ROLE, DATE(YEAR || '-01-01', '+' || (DAY_OF_THE_YEAR - 1) || ' days'), COUNT(*), "
            "ROUND(SUM(REGULAR_MINUTES + OVERTIME_MINUTES + DOUBLE_OVERTIME_MINUTES) / 60.0, 2) "
            "FROM TP_LEGION.SHIFT_ENTITY WHERE LOCATION_EXTERNAL_ID IN (?, ?) AND YEAR = 2026 "
            "AND DAY_OF_THE_YEAR BETWEEN 305 AND 334 AND DELETED = 'No' GROUP BY WORK_ROLE, DAY_OF_THE_YEAR",
            (legion_site, legion_site.lstrip("0")),
        )
    }
    rows = run(edw_engine, "scheduled-hours", {"site": legion_site, "period": "202611"})

    assert {(row["date"], row["jobCode"]): (row["shifts"], row["hours"]) for row in rows} == expected
    assert all(
        row["hours"]
        == pytest.approx(row["regularHours"] + row["overtimeHours"] + row["doubleOvertimeHours"], abs=0.02)
        for row in rows
    )
    deleted = towne_park_sql.execute(
        "SELECT COUNT(*) FROM TP_LEGION.SHIFT_ENTITY WHERE LOCATION_EXTERNAL_ID IN (?, ?) AND YEAR = 2026 "
        "AND DAY_OF_THE_YEAR BETWEEN 305 AND 334 AND DELETED = 'Yes'",
        (legion_site, legion_site.lstrip("0")),
    ).fetchone()[0]
    assert deleted > 0 and sum(row["shifts"] for row in rows) == sum(
        shifts for shifts, _ in expected.values()
    )


def test_budget_daily_detail_spreads_the_months_statistic_accounts_over_its_days(
    edw_engine: Engine, towne_park_sql: sqlite3.Connection, legion_site: str
) -> None:
    balances = dict(
        towne_park_sql.execute(
            "SELECT MAIN_ACCOUNT, SUM(BALANCE) FROM TP_EDW.BUDGET_FINAL "
            "WHERE COST_CENTER = ? AND PERIOD = '202611' GROUP BY MAIN_ACCOUNT",
            (legion_site,),
        ).fetchall()
    )
    monthly = {
        category: (balances[count], balances[revenue])
        for category, (_, revenue, count) in PAIRS.items()
        if revenue in balances
    }
    monthly["Occupied Rooms"] = (balances["9440"], None)
    rows = run(edw_engine, "budget-daily-detail", {"site": legion_site, "period": "202611"})

    assert len(rows) == 30 * len(monthly) and len(monthly) >= 3
    assert {row["date"] for row in rows} == {
        str(date(2026, 11, 1) + timedelta(days=day)) for day in range(30)
    }
    for category, (count, revenue) in monthly.items():
        days = [row for row in rows if row["revenueCategory"] == category]
        assert sum(row["count"] for row in days) == pytest.approx(count, abs=30 * 0.005)
        assert all(row["count"] == money(count / 30) for row in days)
        if revenue is None:
            assert all(row["revenue"] is None and row["rate"] is None for row in days)
        else:
            assert sum(row["revenue"] for row in days) == pytest.approx(revenue, abs=30 * 0.005)
            assert all(row["rate"] == money(revenue / count) for row in days)


def test_budget_actual_summary_pivots_actuals_and_budget_by_summary_category(
    edw_engine: Engine, towne_park_sql: sqlite3.Connection, edw_sandbox: SandboxSummary
) -> None:
    sites = list(edw_sandbox.sites[:3])
    pivot = (
        "SELECT s.COST_CENTER, s.PERIOD, "
        "SUM(CASE WHEN s.MAIN_ACCOUNT = '9410' THEN s.BALANCE ELSE 0 END), "
        "-SUM(CASE WHEN c.IS_SUMMARY_CATEGORY = 'INTERNAL REVENUE' THEN s.BALANCE ELSE 0 END), "
        "SUM(CASE WHEN c.IS_SUMMARY_CATEGORY = 'PAYROLL' THEN s.BALANCE ELSE 0 END), "
        "SUM(CASE WHEN c.IS_SUMMARY_CATEGORY = 'CLAIMS' THEN s.BALANCE ELSE 0 END), "
        "SUM(CASE WHEN c.IS_SUMMARY_CATEGORY = 'PARKING RENTS' THEN s.BALANCE ELSE 0 END), "
        "SUM(CASE WHEN c.IS_SUMMARY_CATEGORY = 'OTHER EXPENSE' THEN s.BALANCE ELSE 0 END), "
        "SUM(CASE WHEN c.IS_SUMMARY_CATEGORY = 'PTEB' THEN s.BALANCE ELSE 0 END), "
        "SUM(CASE WHEN c.IS_SUMMARY_CATEGORY = 'INSURANCE' THEN s.BALANCE ELSE 0 END), "
        "SUM(CASE WHEN s.MAIN_ACCOUNT = '9440' THEN s.BALANCE ELSE 0 END) "
        "FROM TP_EDW.{table} s LEFT JOIN TP_EDW.CHART_OF_ACCOUNT c ON c.MAIN_ACCOUNT = s.MAIN_ACCOUNT "
        "WHERE s.COST_CENTER IN (?, ?, ?) AND s.PERIOD LIKE '2026%' GROUP BY s.COST_CENTER, s.PERIOD"
    )
    expected = {
        (site, period, summary_type): tuple(money(value) for value in values)
        for summary_type, table in (("ACTUAL", "ACCOUNT_SUMMARY"), ("BUDGET", "BUDGET_FINAL"))
        for site, period, *values in towne_park_sql.execute(pivot.format(table=table), sites)
    }
    columns = (
        "externalRevenue",
        "internalRevenue",
        "payroll",
        "claims",
        "parkingRents",
        "otherExpense",
        "pteb",
        "insurance",
        "occupiedRooms",
    )
    unpadded = ",".join(site.lstrip("0") for site in sites)
    rows = run(edw_engine, "budget-actual-summary", {"sites": unpadded, "year": "2026"})

    got = {
        (row["site"], row["period"], row["type"]): tuple(money(row[column]) for column in columns)
        for row in rows
    }
    assert got == expected
    assert {row["type"] for row in rows} == {"ACTUAL", "BUDGET"}
    assert all(row["monthNum"] == int(row["period"][4:]) for row in rows)
    assert all(row["internalRevenue"] >= 0 for row in rows if row["type"] == "BUDGET")


def test_parking_rates_are_query_3_budget_pairs_union_rss_by_code_group(
    edw_engine: Engine, towne_park_sql: sqlite3.Connection, legion_site: str
) -> None:
    expected: dict[tuple[str, str, str], float | None] = {}
    for code, revenue, count in PAIRS.values():
        for period, revenue_total, count_total in towne_park_sql.execute(
            "SELECT PERIOD, SUM(CASE WHEN MAIN_ACCOUNT = ? THEN BALANCE ELSE 0 END), "
            "SUM(CASE WHEN MAIN_ACCOUNT = ? THEN BALANCE ELSE 0 END) FROM TP_EDW.BUDGET_FINAL "
            "WHERE COST_CENTER = ? AND PERIOD LIKE '2026%' AND MAIN_ACCOUNT IN (?, ?) GROUP BY PERIOD",
            (revenue, count, legion_site, revenue, count),
        ):
            expected[(period, "BUDGET", code)] = money(revenue_total / count_total) if count_total else None
    for period, code, rate in towne_park_sql.execute(
        "SELECT STRFTIME('%Y%m', DATE), SUBSTR(REVENUE_CODE, 1, 2), "
        "SUM(NETEXTERNALREVENUE) / NULLIF(SUM(VEHICLECOUNT), 0) FROM TP_EDW.vwREVENUE_DAILY_DETAIL_INVOICE "
        "WHERE SITE = ? AND DATE LIKE '2026%' AND SUBSTR(REVENUE_CODE, 1, 2) IN ('VD','VO','VM','SD','SO','SM') "
        "GROUP BY STRFTIME('%Y%m', DATE), SUBSTR(REVENUE_CODE, 1, 2)",
        (legion_site,),
    ):
        expected[(period, "ACTUAL", code)] = None if rate is None else money(rate)
    rows = run(edw_engine, "parking-rates", {"site": legion_site, "year": 2026})

    assert {(row["period"], row["type"], row["revenueCode"]): row["rate"] for row in rows} == expected
    assert {row["type"] for row in rows} == {"ACTUAL", "BUDGET"}
    assert all(PAIRS[row["revenueCategory"]][0] == row["revenueCode"] for row in rows)


def test_payroll_budget_is_query_5_summed_by_month_and_job_profile(
    edw_engine: Engine, towne_park_sql: sqlite3.Connection, legion_site: str
) -> None:
    expected = {
        (month, profile): (money(hours), money(cost))
        for month, profile, hours, cost in towne_park_sql.execute(
            "SELECT MONTH, JOB_PROFILE, SUM(CASE WHEN BALANCE_DESC = 'PR Hours' THEN BALANCE ELSE 0 END), "
            "SUM(CASE WHEN BALANCE_DESC = 'Payroll' THEN BALANCE ELSE 0 END) FROM TP_EDW.BUDGET_DATATAB_PR "
            "WHERE COST_CENTER = ? AND YEAR = 2026 GROUP BY COST_CENTER, YEAR, MONTH, JOB_PROFILE",
            (legion_site,),
        )
    }
    rows = run(edw_engine, "payroll-budget", {"site": legion_site, "year": "2026"})

    assert {
        (row["month"], row["jobProfile"]): (row["totalHours"], row["totalCost"]) for row in rows
    } == expected
    assert {row["year"] for row in rows} == {2026} and len(rows) > 12


def test_daily_revenue_is_query_8_by_category_with_occupied_rooms(
    edw_engine: Engine, towne_park_sql: sqlite3.Connection, legion_site: str
) -> None:
    expected = {
        (day, category): (money(count), money(revenue))
        for day, category, count, revenue in towne_park_sql.execute(
            "SELECT DATE, REVENUE_CATEGORY, SUM(VEHICLECOUNT), SUM(NETEXTERNALREVENUE) "
            "FROM TP_EDW.REVENUE_DAILY_DETAIL WHERE SITE = ? AND DATE BETWEEN '2026-10-15' AND '2026-11-30' "
            "GROUP BY DATE, REVENUE_CATEGORY",
            (legion_site,),
        )
    }
    rooms = {
        (day, "Occupied Rooms"): (money(value), None)
        for day, value in towne_park_sql.execute(
            "SELECT DATE, SUM(VALUE) FROM TP_EDW.REVENUE_DATAMART_DAILY WHERE SITE = ? "
            "AND REVENUE_CATEGORY = 'Occupied Rooms' AND DATE BETWEEN '2026-10-15' AND '2026-11-30' GROUP BY DATE",
            (legion_site,),
        )
    }
    rows = run(
        edw_engine, "daily-revenue", {"site": legion_site, "fromDate": "2026-10-15", "toDate": "2026-11-30"}
    )

    assert rooms and expected
    assert {
        (row["date"], row["revenueCategory"]): (
            money(row["count"]),
            None if row["revenue"] is None else money(row["revenue"]),
        )
        for row in rows
    } == expected | rooms
    assert [(row["date"], row["revenueCategory"]) for row in rows] == sorted(expected | rooms)


def test_other_expenses_are_queries_9_and_10_by_account(
    edw_engine: Engine, towne_park_sql: sqlite3.Connection, legion_site: str
) -> None:
    expected = {
        (period, expense_type, account): (name, money(amount))
        for expense_type, table in (("ACTUAL", "ACCOUNT_SUMMARY"), ("BUDGET", "BUDGET_FINAL"))
        for period, account, name, amount in towne_park_sql.execute(
            f"SELECT s.PERIOD, s.MAIN_ACCOUNT, c.ACCOUNT_NAME, SUM(s.BALANCE) FROM TP_EDW.{table} s "
            "LEFT JOIN TP_EDW.CHART_OF_ACCOUNT c ON c.MAIN_ACCOUNT = s.MAIN_ACCOUNT WHERE s.COST_CENTER = ? "
            "AND s.PERIOD BETWEEN '202601' AND '202612' AND s.MAIN_ACCOUNT BETWEEN '7000' AND '7999' "
            "GROUP BY s.PERIOD, s.MAIN_ACCOUNT, c.ACCOUNT_NAME",
            (legion_site,),
        )
    }
    rows = run(edw_engine, "other-expenses", {"site": legion_site, "year": 2026})

    got = {
        (row["period"], row["type"], row["mainAccount"]): (row["accountName"], money(row["amount"]))
        for row in rows
    }
    assert got == expected
    assert {"7100", "7220"} <= {account for _, _, account in got}


def test_a_site_with_no_data_returns_no_rows(edw_engine: Engine) -> None:
    nothing: dict[str, dict[str, Any]] = {
        "payroll-actuals": {"site": "8998", "period": "202611"},
        "budget-actual-summary": {"sites": "8998", "year": 2026},
        "daily-revenue": {"site": "8998", "fromDate": "2026-11-01", "toDate": "2026-11-02"},
    }
    for name, parameters in nothing.items():
        assert run(edw_engine, name, parameters) == []


def test_amounts_are_json_numbers(edw_engine: Engine, legion_site: str) -> None:
    read = READS["payroll-actuals"]
    row = read.run(edw_engine, read.params.model_validate({"site": legion_site, "period": "202611"}))[0]
    dumped = row.model_dump(mode="json", by_alias=True)
    assert isinstance(dumped["hours"], float) and isinstance(dumped["cost"], float)
    assert isinstance(row.model_dump()["hours"], Decimal)
