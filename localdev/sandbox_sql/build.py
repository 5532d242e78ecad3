"""Build the sandbox SQL Server: TP_EDW, TP_LEGION and TP_STAGE as SQLite files, seeded deterministically.

The same arguments always give the same rows. Each part of the world draws
from its own random stream (seeded from ``seed`` and the part's name), so
changing how budgets are made does not reshuffle Legion's payroll. The files
are built in a hidden folder beside the destination and moved into place
when complete: a half-built sandbox is never seen.
"""

from __future__ import annotations

import multiprocessing
import random
import shutil
import sqlite3
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from contextlib import closing
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import Table

from localdev.sandbox_sql.budget_days import write_budget_daily_detail
from localdev.sandbox_sql.change_tracking import enable_change_tracking
from localdev.sandbox_sql.finance import write_finance
from localdev.sandbox_sql.forecast_snapshots import create_forecast_snapshots
from localdev.sandbox_sql.gp_statistics import write_gp_statistics
from localdev.sandbox_sql.legion import write_legion
from localdev.sandbox_sql.loading import count_rows, create_index, open_databases
from localdev.sandbox_sql.master import write_master
from localdev.sandbox_sql.revenue import site_revenue, write_revenue
from localdev.sandbox_sql.salesforce_pipeline import create_salesforce_pipeline
from localdev.sandbox_sql.staffing import Employee, make_staff
from localdev.sandbox_sql.workday import write_workday
from localdev.sandbox_sql.world import Site, World, make_world
from shared.sql.billing_reporting import create_billing_reporting
from shared.sql.engines import TOWNE_PARK_DATABASES, sql_server_engine
from shared.sql.tables import (
    account_summary,
    budget_datatab_pr,
    budget_final,
    metadata,
    revenue_daily_detail,
    revenue_datamart_daily,
    revenue_datamart_daily_invoice,
    schedule_cost_entity,
    shift_entity,
    timesheet_entity,
    vw_forecast_consolidated,
    vw_payroll_summary,
    vw_revenue_daily_detail_invoice,
    vw_timesheet_with_clock,
    workday_rls_bisecurity,
)

DEFAULT_SITES = 650  # production: ~650 customer sites (DOMAIN.md §7)
DEFAULT_DAYS = 60
DEFAULT_SEED = 7
DEFAULT_END_DATE = date(2026, 11, 27)
# Legion staff per site on average. 16 builds the default sandbox (~0.5M payroll rows) in about 15 s;
# about 270 gives production's ~150k payroll rows a day across 650 sites (DOMAIN.md §1).
DEFAULT_EMPLOYEES_PER_SITE = 16

# The syncs' filters: payroll by day (wage rates) and by site and day (query 6), shifts by year and
# day of year (query 7), budgets and actuals by cost center and period.
_INDEXES: tuple[tuple[Table, tuple[str, ...]], ...] = (
    (vw_payroll_summary, ("DATE",)),
    (vw_payroll_summary, ("WORK_LOCATION", "DATE")),
    (shift_entity, ("YEAR", "DAY_OF_THE_YEAR")),
    (shift_entity, ("LOCATION_EXTERNAL_ID", "YEAR", "DAY_OF_THE_YEAR")),
    (schedule_cost_entity, ("LOCATION_EXTERNAL_ID", "YEAR", "DAY_OF_THE_YEAR")),
    (timesheet_entity, ("LOCATION_EXTERNAL_ID", "YEAR", "DAY_OF_THE_YEAR")),
    (vw_timesheet_with_clock, ("LOCATION_EXTERNAL_ID", "YEAR", "DAY_OF_THE_YEAR")),
    (workday_rls_bisecurity, ("USER_ID",)),
    (budget_final, ("COST_CENTER", "PERIOD")),
    (budget_datatab_pr, ("COST_CENTER", "YEAR", "MONTH")),
    (account_summary, ("COST_CENTER", "PERIOD")),
    (vw_forecast_consolidated, ("COST_CENTER", "PERIOD")),
    (revenue_daily_detail, ("SITE", "DATE")),
    (vw_revenue_daily_detail_invoice, ("SITE", "DATE")),
    (revenue_datamart_daily, ("SITE", "DATE")),
    (revenue_datamart_daily_invoice, ("SITE", "DATE")),
)


@dataclass(frozen=True)
class SandboxSummary:
    """What was built: where, how many rows per table (by three-part name), and the world's key facts."""

    folder: Path
    url: str  # the SQL connection URL the hub's settings take for this sandbox
    rows: dict[str, int]
    sites: tuple[str, ...]  # every cost center, zero-padded
    legion_unpadded_sites: tuple[str, ...]  # sites Legion stores without the leading zero
    first_payroll_day: date
    last_payroll_day: date
    seconds: float


def sandbox_url(folder: Path) -> str:
    """The URL ``shared.sql.engines.sql_server_engine`` takes for the sandbox in ``folder``."""
    return f"sqlite:///{folder.resolve() / 'TP_EDW.sqlite'}"


@dataclass(frozen=True)
class _Plan:
    """The build's arguments, handed to the process that fills each database."""

    staging: Path
    sites: int
    first_day: date
    end_date: date
    seed: int
    employees_per_site: int

    def stream(self, part: str) -> random.Random:
        """A random stream for one part of the world (a string seed hashes the same in every run)."""
        return random.Random(f"{self.seed}/{part}")

    def world(self) -> tuple[World, dict[Site, list[Employee]]]:
        world = make_world(self.stream("world"), self.sites, self.end_date)
        return world, make_staff(self.stream("staff"), world.sites, self.employees_per_site)


# The sandbox's tables as this code expects them; raised when they change (2: the change-tracking log;
# 3: the hub's forecast snapshots in TP_STAGE; 4: spBUDGET_DAILY_DETAIL's stand-in and the payroll
# budget's unmapped and shift-differential profiles; 5: the hub's billing reporting tables in
# TP_STAGE; 6: the hub's weighted Salesforce pipeline in TP_STAGE), so `make run` reseeds a sandbox
# an older checkout built instead of failing on a missing table.
SHAPE = 6
SHAPE_FILE = "SHAPE"


def is_current(folder: Path) -> bool:
    """Whether ``folder`` holds a sandbox built with today's tables."""
    marker = folder / SHAPE_FILE
    return (
        (folder / "TP_EDW.sqlite").exists() and marker.exists() and marker.read_text().strip() == str(SHAPE)
    )


def build_sandbox(
    folder: Path,
    *,
    sites: int = DEFAULT_SITES,
    days: int = DEFAULT_DAYS,
    seed: int = DEFAULT_SEED,
    end_date: date = DEFAULT_END_DATE,
    employees_per_site: int = DEFAULT_EMPLOYEES_PER_SITE,
) -> SandboxSummary:
    """(Re)build the sandbox in ``folder``: ``days`` days of payroll up to ``end_date``, the EDW around it.

    TP_LEGION and TP_EDW are separate files, so two processes fill them at once.
    """
    if not 1 <= sites <= 8999 or days < 1 or employees_per_site < 1:
        raise ValueError("sites must be 1-8999, days and employees_per_site at least 1")
    started = time.monotonic()
    folder.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".building-", dir=folder))
    plan = _Plan(staging, sites, end_date - timedelta(days=days - 1), end_date, seed, employees_per_site)
    try:
        engine = sql_server_engine(sandbox_url(staging), None, 3600)
        metadata.create_all(engine)
        create_billing_reporting(engine)
        engine.dispose()
        with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
            for filled in [pool.submit(_fill_legion, plan), pool.submit(_fill_edw, plan)]:
                filled.result()
        with closing(open_databases(staging)) as connection:
            create_forecast_snapshots(connection)
            create_salesforce_pipeline(connection)
            connection.execute("COMMIT")
            rows = {table.fullname: count_rows(connection, table) for table in metadata.sorted_tables}
        for database in TOWNE_PARK_DATABASES:
            (staging / f"{database}.sqlite").replace(folder / f"{database}.sqlite")
        (folder / SHAPE_FILE).write_text(f"{SHAPE}\n")
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    world, _ = plan.world()
    return SandboxSummary(
        folder=folder,
        url=sandbox_url(folder),
        rows=rows,
        sites=tuple(site.number for site in world.sites),
        legion_unpadded_sites=tuple(site.number for site in world.sites if site.legion_id != site.number),
        first_payroll_day=plan.first_day,
        last_payroll_day=end_date,
        seconds=round(time.monotonic() - started, 1),
    )


def _fill_legion(plan: _Plan) -> None:
    _, staff = plan.world()
    with closing(open_databases(plan.staging)) as connection:
        write_legion(connection, plan.stream("legion"), staff, (plan.first_day, plan.end_date))
        _finish(connection, "TP_LEGION")


def _fill_edw(plan: _Plan) -> None:
    world, staff = plan.world()
    revenue_rng = plan.stream("revenue")
    revenue = {site: site_revenue(revenue_rng, site) for site in world.sites}
    with closing(open_databases(plan.staging)) as connection:
        write_master(connection, world)
        write_workday(connection, plan.stream("workday"), world, staff)
        write_revenue(connection, revenue_rng, revenue, plan.end_date)
        write_finance(
            connection, plan.stream("finance"), world, staff=staff, revenue=revenue, end_date=plan.end_date
        )
        write_gp_statistics(connection, plan.stream("gp-statistics"), world, plan.end_date)
        write_budget_daily_detail(connection)
        _finish(connection, "TP_EDW")


def _finish(connection: sqlite3.Connection, database: str) -> None:
    """Index the database's tables for the syncs, track changes from here on, commit, and gather the
    statistics SQLite plans with."""
    for table, columns in _INDEXES:
        if table.schema == f"{database}.dbo":
            create_index(connection, table, *columns)
    enable_change_tracking(connection, database)
    connection.execute("COMMIT")
    connection.execute("PRAGMA analysis_limit = 1000")
    connection.execute(f"ANALYZE {database}")
