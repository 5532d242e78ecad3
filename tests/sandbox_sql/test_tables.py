"""``shared/sql/tables.py`` declares DOMAIN.md's objects with their exact names, and the sandbox has them."""

from __future__ import annotations

import sqlite3

from shared.sql import tables
from shared.sql.billing_reporting import VIEWS, billing_metadata

MINUTES = [
    f"{kind}_MINUTES{twin}"
    for kind in (
        "REGULAR",
        "OVERTIME",
        "HOLIDAY",
        "DOUBLE_OVERTIME",
        "HOLIDAY_OVERTIME",
        "HOLIDAY_DOUBLE_OVERTIME",
    )
    for twin in ("", "_NEXT_DAY")
]

# Written out by hand from DOMAIN.md §1-§5 (and PROTOCOLS.md §1 for SHIFT_ENTITY and SCHEDULE_COST_ENTITY).
DOMAIN_COLUMNS = {
    "TP_EDW.dbo.MASTER_NON_FINANCIAL": [
        "SITE", "SITE_NAME", "DISTRICT", "DM", "STREET_ADDRESS", "CITY", "STATE", "ZIP", "GL_STRING",
        "TP_DEPOSITS", "P_CONTRACT_TYPE", "FIRST_WORKED_DATE", "LAST_WORKED_DATE", "SVP_REGION",
        "LEGAL_ENTITY", "PL_CATEGORY", "COG_SEGMENT", "BUSINESS_SEGMENT", "TOTAL_ROOMS_AVAILABLE",
        "TOTAL_AVAILABLE_PARKING", "CountSite",
    ],
    "TP_EDW.dbo.vwGP_CUSTOMER_MSTR": ["CUSTNMBR", "EMAIL_RECIPIENT"],
    "TP_EDW.dbo.WORKDAY_SITE_MANAGERS": [
        "SITE", "ACCT_MGR_EMPLOYEE_ID", "ACCT_MGR_FIRST_NAME", "ACCT_MGR_LAST_NAME",
    ],
    "TP_EDW.dbo.WORKDAY_RLS_BISECURITY": ["USER_ID", "JOB_PROFILE", "COST_CENTER", "SITE"],
    "TP_EDW.dbo.WORKDAY_SITE_SALARIES": [
        "COST_CENTER", "TOTAL_BASEPAY_ANNUALIZED_AMOUNT", "ALLOCATION_PER_COST_CENTER_AMOUNT",
        "DISTRIBUTION_PERCENT", "FULL_LEGAL_NAME", "EMAIL_PRIMARY_WORK",
    ],
    "TP_EDW.dbo.BUDGET_FINAL": ["COST_CENTER", "PERIOD", "MAIN_ACCOUNT", "BALANCE"],
    "TP_EDW.dbo.BUDGET_DATATAB_PR": [
        "COST_CENTER", "YEAR", "MONTH", "JOB_PROFILE", "BALANCE_DESC", "BALANCE",
    ],
    "TP_EDW.dbo.ACCOUNT_SUMMARY": ["COST_CENTER", "PERIOD", "MAIN_ACCOUNT", "BALANCE", "ENTITY"],
    "TP_EDW.dbo.CHART_OF_ACCOUNT": ["MAIN_ACCOUNT", "ACCOUNT_NAME", "IS_SUMMARY_CATEGORY"],
    "TP_EDW.dbo.REVENUE_DAILY_DETAIL": [
        "SITE", "DATE", "REVENUE_CATEGORY", "VEHICLECOUNT", "NETEXTERNALREVENUE",
    ],
    "TP_EDW.dbo.vwREVENUE_DAILY_DETAIL_INVOICE": [
        "SITE", "DATE", "REVENUE_CATEGORY", "VEHICLECOUNT", "NETEXTERNALREVENUE", "REVENUE_CODE",
        "DEPOSIT_FLAG", "TAXRATE", "EXTERNALREVENUE", "BILLABLE_NET_VALIDATION", "COLLECTION_TYPE",
    ],
    "TP_EDW.dbo.REVENUE_DATAMART_DAILY": [
        "SITE", "DATE", "REVENUE_CATEGORY", "VALUE_TYPE", "VALUE", "DW_LOADED_DTTM",
    ],
    "TP_EDW.dbo.REVENUE_DATAMART_DAILY_INVOICE": [
        "SITE", "DATE", "REVENUE_CATEGORY", "VALUE_TYPE", "VALUE", "DW_LOADED_DTTM",
    ],
    # DOMAIN.md §9: the Logic App's inserts into TP_STAGE, which the deposit check now makes.
    "TP_STAGE.dbo.REVENUE_DATAMART_DAILY_INVOICE": [
        "FILE_NAME", "SITE", "DATE", "REVENUE_CODE", "REVENUE_CATEGORY", "VALUE_TYPE", "VALUE", "IS_DRAFT",
        "DW_LOADED_DTTM",
    ],
    "TP_EDW.dbo.vwFORECAST_CONSOLIDATED": [
        "COST_CENTER", "PERIOD", "IS_SUMMARY_CATEGORY", "FD_BALANCE", "DW_LOADED_DTTM",
    ],
    "TP_LEGION.dbo.vwPAYROLL_SUMMARY": [
        "WORK_LOCATION", "DATE", "TITLE", "PAY_TYPE", "TOTAL_HOURS", "TOTAL_DOLLARS",
    ],
    "TP_LEGION.dbo.SHIFT_ENTITY": [
        "LOCATION_EXTERNAL_ID", "WORK_ROLE", "EMPLOYEE_EXTERNAL_ID", "YEAR", "DAY_OF_THE_YEAR",
        "SCHEDULE_WEEK", "START_DATE", "END_DATE", "REGULAR_MINUTES", "OVERTIME_MINUTES",
        "DOUBLE_OVERTIME_MINUTES", "DELETED",
    ],
    "TP_LEGION.dbo.SCHEDULE_COST_ENTITY": [
        "SCHEDULE_COST", "LOCATION_EXTERNAL_ID", "WORK_ROLE", "YEAR", "DAY_OF_THE_YEAR",
    ],
    "TP_LEGION.dbo.TIMESHEET_ENTITY": [
        "LOCATION_EXTERNAL_ID", "YEAR", "DAY_OF_THE_YEAR", "WORK_ROLE", *MINUTES,
    ],
    "TP_LEGION.dbo.vwTIMESHEET_WITH_CLOCK": [
        "LOCATION_EXTERNAL_ID", "YEAR", "DAY_OF_THE_YEAR", "WORK_ROLE", *MINUTES,
    ],
}  # fmt: skip


def test_every_object_has_exactly_domain_md_columns() -> None:
    declared = {table.fullname: sorted(table.c.keys()) for table in tables.metadata.sorted_tables}

    assert declared == {name: sorted(columns) for name, columns in DOMAIN_COLUMNS.items()}


def test_the_sandbox_files_hold_the_same_tables_and_columns(databases: sqlite3.Connection) -> None:
    for fullname, columns in DOMAIN_COLUMNS.items():
        database, _, table = fullname.split(".")
        found = [row[1] for row in databases.execute(f'PRAGMA {database}.table_info("{table}")')]
        assert sorted(found) == sorted(columns), fullname
    # TP_STAGE: the RSS data mart, the hub's forecast snapshots, billing tables and weighted pipeline, with views.
    stage = databases.execute("SELECT type, name FROM TP_STAGE.sqlite_master WHERE type IN ('table', 'view')")
    billing = {("table", table.name) for table in billing_metadata.sorted_tables} | {
        ("view", v) for v in VIEWS
    }
    assert set(stage.fetchall()) == billing | {
        ("table", "REVENUE_DATAMART_DAILY_INVOICE"),
        ("table", "HUB_FORECAST_SNAPSHOT"),
        ("table", "HUB_FORECAST_SNAPSHOT_LINE"),
        ("view", "vwHUB_FORECAST_CONSOLIDATED"),
        ("table", "HUB_SALESFORCE_PIPELINE"),
    }
