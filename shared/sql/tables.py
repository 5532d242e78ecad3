"""Towne Park's SQL Server tables and views that the syncs and the live EDW API read, declared once.

Every object keeps Towne Park's exact database, table and column names, so a
statement built here reads ``[TP_LEGION].dbo.[vwPAYROLL_SUMMARY]`` on
``EDW-NODE-01\\TP_EDW01`` and the same-named table in the sandbox (see
``shared/sql/engines.py`` for the schema translation). Views are declared as
tables because reading one looks the same; the comment on each says which are
views in production. The hub only reads these objects: the declarations carry
no keys or indexes of Towne Park's, which the hub neither knows nor needs.

Sources are the sections of ``DOMAIN.md``. Column types are not in any source
Towne Park published: they are chosen to hold the values the sources show
(4-character sites, yyyyMM periods, money to the cent) and are all inferred;
a column not named by the sources is marked *inferred* where it is declared.

``TP_STAGE`` (RSS staging) holds the data mart the deposit check loads from each
submitted workbook (``stage_revenue_datamart_daily_invoice``).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import (
    DECIMAL,
    INTEGER,
    NVARCHAR,
    VARCHAR,
    Boolean,
    Column,
    Date,
    DateTime,
    MetaData,
    Table,
)
from sqlalchemy.dialects import mssql

EDW = "TP_EDW.dbo"
LEGION = "TP_LEGION.dbo"
STAGE = "TP_STAGE.dbo"

metadata = MetaData()

# DATETIME2 on SQL Server; the generic type elsewhere, so the sandbox can create the table.
_DATETIME2 = DateTime().with_variant(mssql.DATETIME2, "mssql")
_MONEY: DECIMAL[Decimal] = DECIMAL(18, 2)
_HOURS: DECIMAL[Decimal] = DECIMAL(18, 2)
_RATE: DECIMAL[Decimal] = DECIMAL(18, 4)
_SITE = VARCHAR(10)  # '0170', and in Legion and Workday tables also '170' (DOMAIN.md §1, §10)
_PERIOD = VARCHAR(6)  # yyyyMM
_ACCOUNT = VARCHAR(10)  # a GP main account such as '4790'
_NAME = NVARCHAR(100)
_CATEGORY = NVARCHAR(50)

# ── TP_EDW: site master data ────────────────────────────────────────────────────────────────────

# DOMAIN.md §4 "MASTER_NON_FINANCIAL" and §4 "Master-site sync": one row per cost center.
master_non_financial = Table(
    "MASTER_NON_FINANCIAL",
    metadata,
    Column("SITE", _SITE),
    Column("SITE_NAME", NVARCHAR(200)),
    Column("DISTRICT", _NAME),
    Column("DM", _NAME),
    Column("STREET_ADDRESS", NVARCHAR(200)),
    Column("CITY", _NAME),
    Column("STATE", VARCHAR(20)),
    Column("ZIP", VARCHAR(10)),
    Column("GL_STRING", VARCHAR(30)),  # '02-03-2106-': company, two segments, open main account
    Column("TP_DEPOSITS", VARCHAR(1)),  # 'Y' when Towne Park deposits the site's revenue
    Column("P_CONTRACT_TYPE", _NAME),
    Column("FIRST_WORKED_DATE", Date),
    Column("LAST_WORKED_DATE", Date),
    Column("SVP_REGION", _NAME),
    Column("LEGAL_ENTITY", _NAME),
    Column("PL_CATEGORY", _NAME),
    Column("COG_SEGMENT", _NAME),
    Column("BUSINESS_SEGMENT", _NAME),
    Column("TOTAL_ROOMS_AVAILABLE", INTEGER),
    Column("TOTAL_AVAILABLE_PARKING", INTEGER),
    Column("CountSite", INTEGER),
    schema=EDW,
)

# DOMAIN.md §3 "Reverse flows" and §4 "Master-site sync": a view over GP's customer master (RM00101).
vw_gp_customer_mstr = Table(
    "vwGP_CUSTOMER_MSTR",
    metadata,
    Column("CUSTNMBR", VARCHAR(15)),  # GP customer number = the site number
    Column("EMAIL_RECIPIENT", NVARCHAR(500)),
    schema=EDW,
)

# ── TP_EDW: Workday's nightly exports ───────────────────────────────────────────────────────────

# DOMAIN.md §2: the site's account manager, joined to MASTER_NON_FINANCIAL on SITE.
workday_site_managers = Table(
    "WORKDAY_SITE_MANAGERS",
    metadata,
    Column("SITE", _SITE),
    Column("ACCT_MGR_EMPLOYEE_ID", VARCHAR(20)),
    Column("ACCT_MGR_FIRST_NAME", _NAME),
    Column("ACCT_MGR_LAST_NAME", _NAME),
    schema=EDW,
)

# DOMAIN.md §2 "Role and site access": DMs get sites from SITE, AMs from COST_CENTER.
workday_rls_bisecurity = Table(
    "WORKDAY_RLS_BISECURITY",
    metadata,
    Column("USER_ID", NVARCHAR(200)),  # the user's work email
    Column("JOB_PROFILE", VARCHAR(30)),
    Column("COST_CENTER", _SITE),
    Column("SITE", _SITE),
    schema=EDW,
)

# DOMAIN.md §2 and §9: salaried people's pay, allocated across cost centers.
workday_site_salaries = Table(
    "WORKDAY_SITE_SALARIES",
    metadata,
    Column("COST_CENTER", _SITE),
    Column("TOTAL_BASEPAY_ANNUALIZED_AMOUNT", _MONEY),
    Column("ALLOCATION_PER_COST_CENTER_AMOUNT", _MONEY),
    Column("DISTRIBUTION_PERCENT", _RATE),  # 0 to 100 (inferred: the scale is not in the sources)
    Column("FULL_LEGAL_NAME", NVARCHAR(200)),
    Column("EMAIL_PRIMARY_WORK", NVARCHAR(200)),
    schema=EDW,
)

# ── TP_EDW: budgets, GP actuals, chart of accounts ──────────────────────────────────────────────

# DOMAIN.md §4 and §5: the budget by cost center, period and main account; revenue stored negative.
budget_final = Table(
    "BUDGET_FINAL",
    metadata,
    Column("COST_CENTER", _SITE),
    Column("PERIOD", _PERIOD),
    Column("MAIN_ACCOUNT", _ACCOUNT),
    Column("BALANCE", _MONEY),
    schema=EDW,
)

# DOMAIN.md §4 and §5 "Job-profile mapping": the payroll budget, 'PR Hours' and 'Payroll' per job profile.
budget_datatab_pr = Table(
    "BUDGET_DATATAB_PR",
    metadata,
    Column("COST_CENTER", _SITE),
    Column("YEAR", INTEGER),
    Column("MONTH", INTEGER),
    Column("JOB_PROFILE", VARCHAR(30)),
    Column("BALANCE_DESC", VARCHAR(20)),
    Column("BALANCE", _MONEY),
    schema=EDW,
)

# DOMAIN.md §3 "Reverse flows" and §4: GP actuals after month-end close; billing excludes ENTITY '06'.
account_summary = Table(
    "ACCOUNT_SUMMARY",
    metadata,
    Column("COST_CENTER", _SITE),
    Column("PERIOD", _PERIOD),
    Column("MAIN_ACCOUNT", _ACCOUNT),
    Column("BALANCE", _MONEY),
    Column("ENTITY", VARCHAR(4)),
    schema=EDW,
)

# DOMAIN.md §4: main accounts and the summary category each rolls up to.
chart_of_account = Table(
    "CHART_OF_ACCOUNT",
    metadata,
    Column("MAIN_ACCOUNT", _ACCOUNT),
    Column("ACCOUNT_NAME", _NAME),
    Column("IS_SUMMARY_CATEGORY", _CATEGORY),  # EXTERNAL REVENUE … INSURANCE; NULL for statistics
    schema=EDW,
)

# ── TP_EDW: revenue (RSS) and forecast ──────────────────────────────────────────────────────────

# DOMAIN.md §4: daily vehicles and net external revenue per site and revenue category.
revenue_daily_detail = Table(
    "REVENUE_DAILY_DETAIL",
    metadata,
    Column("SITE", _SITE),
    Column("DATE", Date),
    Column("REVENUE_CATEGORY", _CATEGORY),
    Column("VEHICLECOUNT", INTEGER),
    Column("NETEXTERNALREVENUE", _MONEY),
    schema=EDW,
)

# DOMAIN.md §4 and "PA billing queries": a view; REVENUE_DAILY_DETAIL by revenue code, deposit and collection.
vw_revenue_daily_detail_invoice = Table(
    "vwREVENUE_DAILY_DETAIL_INVOICE",
    metadata,
    Column("SITE", _SITE),
    Column("DATE", Date),
    Column("REVENUE_CATEGORY", _CATEGORY),
    Column("VEHICLECOUNT", INTEGER),
    Column("NETEXTERNALREVENUE", _MONEY),
    Column("REVENUE_CODE", VARCHAR(10)),  # VD1, SO2, OR1 …
    Column("DEPOSIT_FLAG", VARCHAR(1)),  # Y deposited by Towne Park, V validation, N otherwise
    Column("TAXRATE", _RATE),  # a fraction, 0.1025 (inferred scale)
    Column("EXTERNALREVENUE", _MONEY),
    Column("BILLABLE_NET_VALIDATION", _MONEY),
    Column("COLLECTION_TYPE", _NAME),
    schema=EDW,
)

# DOMAIN.md §4 and §9: the RSS datamart, daily values such as 'Occupied Rooms'.
revenue_datamart_daily = Table(
    "REVENUE_DATAMART_DAILY",
    metadata,
    Column("SITE", _SITE),
    Column("DATE", Date),
    Column("REVENUE_CATEGORY", _CATEGORY),
    Column("VALUE_TYPE", VARCHAR(20)),  # 'Other' | 'Vehicles' | 'Revenue'
    Column("VALUE", _MONEY),
    Column("DW_LOADED_DTTM", _DATETIME2),
    schema=EDW,
)

# DOMAIN.md §4 and §9: the datamart as submitted for invoicing; per-occupied-room billing reads it.
revenue_datamart_daily_invoice = Table(
    "REVENUE_DATAMART_DAILY_INVOICE",
    metadata,
    Column("SITE", _SITE),
    Column("DATE", Date),
    Column("REVENUE_CATEGORY", _CATEGORY),
    Column("VALUE_TYPE", VARCHAR(20)),
    Column("VALUE", _MONEY),
    Column("DW_LOADED_DTTM", _DATETIME2),
    schema=EDW,
)

# DOMAIN.md §4: a view; the forecast by cost center, period and summary category (the new forecast keeps it).
vw_forecast_consolidated = Table(
    "vwFORECAST_CONSOLIDATED",
    metadata,
    Column("COST_CENTER", _SITE),
    Column("PERIOD", _PERIOD),
    Column("IS_SUMMARY_CATEGORY", _CATEGORY),
    Column("FD_BALANCE", _MONEY),
    Column("DW_LOADED_DTTM", _DATETIME2),
    schema=EDW,
)

# ── TP_LEGION: replicated Legion ────────────────────────────────────────────────────────────────
# DOMAIN.md §1 places vwPAYROLL_SUMMARY and SHIFT_ENTITY in TP_LEGION and says the database of
# TIMESHEET_ENTITY and vwTIMESHEET_WITH_CLOCK is unclear; they are declared in TP_LEGION too, with
# SCHEDULE_COST_ENTITY, since the payroll view is built over TIMESHEET_ENTITY there.

# DOMAIN.md §1 and PROTOCOLS.md §1: a view; payroll actuals, not aggregated (many rows per job and day).
vw_payroll_summary = Table(
    "vwPAYROLL_SUMMARY",
    metadata,
    Column("WORK_LOCATION", _SITE),
    Column("DATE", Date),
    Column("TITLE", VARCHAR(20)),  # the Legion job code (GSA, LDGSC, SHUTL2 …)
    Column("PAY_TYPE", VARCHAR(30)),  # REGULAR, OVERTIME, … DIFFERENTIAL, MEAL PREMIUM
    Column("TOTAL_HOURS", _HOURS),
    Column("TOTAL_DOLLARS", _MONEY),
    schema=LEGION,
)

# DOMAIN.md §1 and PROTOCOLS.md §1: the schedule, one row per shift; DELETED 'No' | 'Yes'.
shift_entity = Table(
    "SHIFT_ENTITY",
    metadata,
    Column("LOCATION_EXTERNAL_ID", _SITE),
    Column("WORK_ROLE", VARCHAR(20)),
    Column("EMPLOYEE_EXTERNAL_ID", VARCHAR(20)),
    Column("YEAR", INTEGER),
    Column("DAY_OF_THE_YEAR", INTEGER),
    Column("SCHEDULE_WEEK", Date),  # inferred: the first day (Monday) of the schedule's week
    Column("START_DATE", _DATETIME2),  # inferred: the shift's start, date and time
    Column("END_DATE", _DATETIME2),  # inferred: the shift's end, the next day for overnight shifts
    Column("REGULAR_MINUTES", INTEGER),
    Column("OVERTIME_MINUTES", INTEGER),
    Column("DOUBLE_OVERTIME_MINUTES", INTEGER),
    Column("DELETED", VARCHAR(3)),
    schema=LEGION,
)

# PROTOCOLS.md §1 (DOMAIN.md §1 "in the spec only"): scheduled cost per site, role and day.
schedule_cost_entity = Table(
    "SCHEDULE_COST_ENTITY",
    metadata,
    Column("LOCATION_EXTERNAL_ID", _SITE),
    Column("WORK_ROLE", VARCHAR(20)),
    Column("YEAR", INTEGER),
    Column("DAY_OF_THE_YEAR", INTEGER),
    Column("SCHEDULE_COST", _MONEY),
    schema=LEGION,
)


# DOMAIN.md §1: the kinds of timesheet minutes; each has a ``<KIND>_MINUTES`` and ``<KIND>_MINUTES_NEXT_DAY``.
TIMESHEET_MINUTE_KINDS = (
    "REGULAR",
    "OVERTIME",
    "HOLIDAY",
    "DOUBLE_OVERTIME",
    "HOLIDAY_OVERTIME",
    "HOLIDAY_DOUBLE_OVERTIME",
)


def _timesheet_columns() -> list[Column[Any]]:
    """DOMAIN.md §1: site, day and role, then each kind of minutes with its ``*_NEXT_DAY`` twin."""
    keys: list[Column[Any]] = [
        Column("LOCATION_EXTERNAL_ID", _SITE),
        Column("YEAR", INTEGER),
        Column("DAY_OF_THE_YEAR", INTEGER),
        Column("WORK_ROLE", VARCHAR(20)),
    ]
    minutes = [
        Column(f"{kind}_MINUTES{twin}", INTEGER)
        for kind in TIMESHEET_MINUTE_KINDS
        for twin in ("", "_NEXT_DAY")
    ]
    return keys + minutes


# DOMAIN.md §1 and §7: timesheets; the Management Agreement fee reads them (OT = OVERTIME only).
timesheet_entity = Table("TIMESHEET_ENTITY", metadata, *_timesheet_columns(), schema=LEGION)

# DOMAIN.md §1 and §7 "Per Labor Hour": a view; timesheets with clock punches, read by PLH billing.
vw_timesheet_with_clock = Table("vwTIMESHEET_WITH_CLOCK", metadata, *_timesheet_columns(), schema=LEGION)


# ── TP_STAGE: RSS staging ───────────────────────────────────────────────────────────────────────

# DOMAIN.md §9: the data mart of each submitted RSS, as the Ready-for-Invoicing Logic App inserts it
# (FILE_NAME, SITE, DATE, REVENUE_CODE, REVENUE_CATEGORY, VALUE_TYPE, VALUE, IS_DRAFT, DW_LOADED_DTTM);
# the deposit check's cash line is its 'Cash Deposits to Local TP Bank Account' rows.
stage_revenue_datamart_daily_invoice = Table(
    "REVENUE_DATAMART_DAILY_INVOICE",
    metadata,
    Column("FILE_NAME", NVARCHAR(260)),
    Column("SITE", _SITE),
    Column("DATE", Date),
    Column("REVENUE_CODE", VARCHAR(5)),
    Column("REVENUE_CATEGORY", _CATEGORY),
    Column("VALUE_TYPE", VARCHAR(20)),
    Column("VALUE", _MONEY),
    Column("IS_DRAFT", Boolean),
    Column("DW_LOADED_DTTM", _DATETIME2),
    schema=STAGE,
)
