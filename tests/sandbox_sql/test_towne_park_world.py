"""The sandbox carries Towne Park's shapes and production's known defects (DOMAIN.md §1, §2, §4, §10)."""

from __future__ import annotations

import sqlite3
from typing import Any

from localdev.sandbox_sql import SandboxSummary


def scalar(databases: sqlite3.Connection, sql: str, *parameters: object) -> Any:
    return databases.execute(sql, parameters).fetchone()[0]


def test_the_summary_counts_every_table(small_sandbox: SandboxSummary, databases: sqlite3.Connection) -> None:
    assert len(small_sandbox.rows) == 20
    for fullname, rows in small_sandbox.rows.items():
        database, _, table = fullname.split(".")
        counted = scalar(databases, f'SELECT COUNT(*) FROM {database}."{table}"')
        if database == "TP_STAGE":  # the RSS data mart: empty until the deposit check loads a workbook
            assert counted == rows == 0, fullname
        else:
            assert counted == rows > 0, fullname
    assert len(small_sandbox.sites) == 40
    assert all(len(site) == 4 and "0001" <= site <= "8999" for site in small_sandbox.sites)


def test_some_sites_are_stored_unpadded_in_legion_and_workday(
    small_sandbox: SandboxSummary, databases: sqlite3.Connection
) -> None:
    unpadded = [site.lstrip("0") for site in small_sandbox.legion_unpadded_sites]
    assert unpadded and all(len(site) < 4 for site in unpadded)
    legion = {
        row[0] for row in databases.execute("SELECT DISTINCT WORK_LOCATION FROM TP_LEGION.vwPAYROLL_SUMMARY")
    }
    assert set(unpadded) <= legion
    assert not {f"{int(site):04d}" for site in unpadded} & legion
    workday = [row[0] for row in databases.execute("SELECT SITE FROM TP_EDW.WORKDAY_SITE_MANAGERS")]
    assert any(len(site) < 4 for site in workday)
    master = [row[0] for row in databases.execute("SELECT SITE FROM TP_EDW.MASTER_NON_FINANCIAL")]
    assert sorted(master) == sorted(small_sandbox.sites)


def test_payroll_has_every_pay_type_and_the_rows_the_rules_exclude(databases: sqlite3.Connection) -> None:
    pay_types = {
        row[0]: row[1:]
        for row in databases.execute(
            "SELECT PAY_TYPE, COUNT(*), MIN(TOTAL_HOURS), MIN(TOTAL_DOLLARS) "
            "FROM TP_LEGION.vwPAYROLL_SUMMARY GROUP BY PAY_TYPE"
        )
    }
    assert set(pay_types) == {
        "REGULAR",
        "OVERTIME",
        "DOUBLE OVERTIME",
        "HOLIDAY",
        "DIFFERENTIAL",
        "MEAL PREMIUM",
    }
    for excluded in ("DIFFERENTIAL", "MEAL PREMIUM"):  # both carry hours AND dollars
        _, fewest_hours, fewest_dollars = pay_types[excluded]
        assert fewest_hours > 0 and fewest_dollars > 0
    assert scalar(databases, "SELECT COUNT(*) FROM TP_LEGION.vwPAYROLL_SUMMARY WHERE TOTAL_HOURS = 0") > 0
    assert scalar(databases, "SELECT COUNT(*) FROM TP_LEGION.vwPAYROLL_SUMMARY WHERE WORK_LOCATION = ''") > 0
    assert scalar(databases, "SELECT COUNT(*) FROM TP_LEGION.vwPAYROLL_SUMMARY WHERE TITLE = ''") > 0
    job_codes = {
        row[0] for row in databases.execute("SELECT DISTINCT TITLE FROM TP_LEGION.vwPAYROLL_SUMMARY")
    }
    assert {"GSA", "CASH", "VALET", "MGR", "SUPV"} <= job_codes
    assert len(job_codes) >= 20


def test_a_title_paid_only_with_zero_hours_exists(databases: sqlite3.Connection) -> None:
    """The wage-rate sync's division by zero (story 2183): all of a title's dollars, no hours."""
    assert scalar(
        databases,
        "SELECT COUNT(*) FROM (SELECT WORK_LOCATION, TITLE FROM TP_LEGION.vwPAYROLL_SUMMARY "
        "GROUP BY WORK_LOCATION, TITLE HAVING SUM(TOTAL_HOURS) = 0 AND SUM(TOTAL_DOLLARS) > 0)",
    )


def test_schedules_have_deleted_shifts_and_run_past_the_last_payroll_day(
    small_sandbox: SandboxSummary, databases: sqlite3.Connection
) -> None:
    deleted = dict(databases.execute("SELECT DELETED, COUNT(*) FROM TP_LEGION.SHIFT_ENTITY GROUP BY DELETED"))
    assert set(deleted) == {"No", "Yes"} and 0 < deleted["Yes"] < deleted["No"] / 10
    last = small_sandbox.last_payroll_day.timetuple().tm_yday
    assert (
        scalar(databases, "SELECT MAX(DAY_OF_THE_YEAR) FROM TP_LEGION.SHIFT_ENTITY WHERE YEAR = 2026") > last
    )
    assert (
        scalar(databases, "SELECT COUNT(*) FROM TP_LEGION.SHIFT_ENTITY WHERE DOUBLE_OVERTIME_MINUTES > 0") > 0
    )


def test_timesheets_agree_with_payroll_and_some_run_past_midnight(databases: sqlite3.Connection) -> None:
    payroll_hours = scalar(
        databases,
        "SELECT SUM(TOTAL_HOURS) FROM TP_LEGION.vwPAYROLL_SUMMARY WHERE PAY_TYPE IN ('REGULAR', 'OVERTIME')",
    )
    timesheet_minutes = scalar(
        databases,
        "SELECT SUM(REGULAR_MINUTES + REGULAR_MINUTES_NEXT_DAY + OVERTIME_MINUTES "
        "+ OVERTIME_MINUTES_NEXT_DAY + HOLIDAY_OVERTIME_MINUTES + HOLIDAY_OVERTIME_MINUTES_NEXT_DAY) "
        "FROM TP_LEGION.vwTIMESHEET_WITH_CLOCK",
    )
    assert isinstance(payroll_hours, float) and isinstance(timesheet_minutes, int)
    assert abs(timesheet_minutes / 60 - payroll_hours) < payroll_hours * 0.001
    assert scalar(
        databases, "SELECT COUNT(*) FROM TP_LEGION.TIMESHEET_ENTITY WHERE REGULAR_MINUTES_NEXT_DAY > 0"
    )


def test_workday_gives_district_and_account_managers_their_profiles(databases: sqlite3.Connection) -> None:
    profiles = dict(
        databases.execute(
            "SELECT JOB_PROFILE, COUNT(*) FROM TP_EDW.WORKDAY_RLS_BISECURITY GROUP BY JOB_PROFILE"
        )
    )
    district_managers = {"DISTMGR", "AREAMGR", "SRDISTMGR"}
    account_managers = {"DOO", "ACCTMGR", "ASSOCM", "SRACCTMGR", "ASOPSMGR", "TRANSMGR"}
    assert district_managers & set(profiles) and {"ACCTMGR", "ASSOCM"} <= set(profiles)
    assert set(profiles) - district_managers - account_managers  # profiles that get no access
    several_sites = scalar(
        databases,
        "SELECT MAX(sites) FROM (SELECT COUNT(SITE) AS sites FROM TP_EDW.WORKDAY_RLS_BISECURITY "
        "WHERE JOB_PROFILE IN ('DISTMGR', 'AREAMGR', 'SRDISTMGR') GROUP BY USER_ID)",
    )
    assert isinstance(several_sites, int) and several_sites > 1
    assert scalar(
        databases,
        "SELECT COUNT(*) FROM TP_EDW.WORKDAY_RLS_BISECURITY r JOIN TP_EDW.WORKDAY_SITE_SALARIES s "
        "ON s.EMAIL_PRIMARY_WORK = r.USER_ID WHERE r.JOB_PROFILE = 'ACCTMGR'",
    )


def test_master_data_has_the_rows_the_site_sync_must_skip(databases: sqlite3.Connection) -> None:
    assert scalar(
        databases,
        "SELECT COUNT(*) FROM TP_EDW.MASTER_NON_FINANCIAL WHERE STREET_ADDRESS IS NULL OR CITY IS NULL",
    )
    companies = {row[0][:3] for row in databases.execute("SELECT GL_STRING FROM TP_EDW.MASTER_NON_FINANCIAL")}
    assert "02-" in companies and companies <= {"02-", "07-", "22-"}
    assert scalar(databases, "SELECT COUNT(*) FROM TP_EDW.vwGP_CUSTOMER_MSTR WHERE EMAIL_RECIPIENT = ''")


def test_finance_follows_towne_parks_sign_and_entity_conventions(databases: sqlite3.Connection) -> None:
    assert (
        scalar(
            databases,
            "SELECT MAX(BALANCE) FROM TP_EDW.BUDGET_FINAL WHERE MAIN_ACCOUNT BETWEEN '4000' AND '4999'",
        )
        < 0
    )  # internal revenue is stored negative
    assert (
        scalar(databases, "SELECT MAX(ABS(BALANCE)) FROM TP_EDW.BUDGET_FINAL WHERE MAIN_ACCOUNT = '7100'")
        == 0
    )
    assert scalar(databases, "SELECT COUNT(*) FROM TP_EDW.ACCOUNT_SUMMARY WHERE ENTITY = '06'")
    periods = {row[0] for row in databases.execute("SELECT DISTINCT PERIOD FROM TP_EDW.BUDGET_FINAL")}
    assert periods == {f"{year}{month:02d}" for year in (2025, 2026) for month in range(1, 13)}
    assert scalar(databases, "SELECT MAX(PERIOD) FROM TP_EDW.ACCOUNT_SUMMARY") == "202610"
    descriptions = {
        row[0] for row in databases.execute("SELECT DISTINCT BALANCE_DESC FROM TP_EDW.BUDGET_DATATAB_PR")
    }
    assert descriptions == {"PR Hours", "Payroll"}
    categories = {
        row[0]
        for row in databases.execute("SELECT DISTINCT IS_SUMMARY_CATEGORY FROM TP_EDW.CHART_OF_ACCOUNT")
    }
    assert categories - {None} == {
        "EXTERNAL REVENUE", "INTERNAL REVENUE", "PAYROLL", "CLAIMS",
        "PARKING RENTS", "OTHER EXPENSE", "PTEB", "INSURANCE",
    }  # fmt: skip


def test_revenue_carries_deposits_validations_and_occupied_rooms(databases: sqlite3.Connection) -> None:
    flags = {
        row[0]
        for row in databases.execute(
            "SELECT DISTINCT DEPOSIT_FLAG FROM TP_EDW.vwREVENUE_DAILY_DETAIL_INVOICE"
        )
    }
    assert flags == {"Y", "N", "V"}
    net_detail = scalar(
        databases, "SELECT ROUND(SUM(NETEXTERNALREVENUE), 0) FROM TP_EDW.REVENUE_DAILY_DETAIL"
    )
    net_view = scalar(
        databases,
        "SELECT ROUND(SUM(NETEXTERNALREVENUE), 0) FROM TP_EDW.vwREVENUE_DAILY_DETAIL_INVOICE "
        "WHERE DEPOSIT_FLAG <> 'V'",
    )
    assert net_detail == net_view
    assert scalar(
        databases,
        "SELECT COUNT(*) FROM TP_EDW.REVENUE_DATAMART_DAILY_INVOICE "
        "WHERE REVENUE_CATEGORY = 'Occupied Rooms' AND VALUE_TYPE = 'Other' AND VALUE > 0",
    )
