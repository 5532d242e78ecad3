"""Every stream the hub syncs, gathered from the connectors into one catalog.

The composition root builds the EDW engine (one per process) and the options
from settings, and passes them here; the connectors never read settings.
Which timer runs which streams is declared in ``syncs.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import replace

from sqlalchemy import Engine

from shared.connectors.dataverse.client import DataverseClient
from shared.connectors.dataverse.job_profile_mappings import NO_HAND_MAPPINGS, ReadHandMappings
from shared.connectors.edw.budget_monthly import ApprovedBudget, budget_monthly_stream
from shared.connectors.edw.budget_months import BASELINE_MONTHS, BudgetMonths
from shared.connectors.edw.budgets import budgets_stream
from shared.connectors.edw.daily_budget_statistics import budget_statistics_stream
from shared.connectors.edw.daily_statistics import daily_statistics_stream
from shared.connectors.edw.gl_actuals import gl_actual_streams
from shared.connectors.edw.master_sites import master_sites_stream
from shared.connectors.edw.parking_rates import parking_rates_stream
from shared.connectors.edw.payroll_budget import payroll_budget_stream
from shared.connectors.great_plains.customers import gp_customers_stream
from shared.connectors.great_plains.receivables import invoice_payment_status_stream
from shared.connectors.legion.days import LastDays, Today, utc_today
from shared.connectors.legion.job_codes import SCHEDULE_DAYS, job_code_streams
from shared.connectors.legion.scheduled_hours import scheduled_hours_stream
from shared.connectors.legion.wage_rates import DifferentialPay, wage_rates_stream
from shared.connectors.legion.worked_hours import worked_hours_stream
from shared.connectors.salesforce.bulk import BulkQuery
from shared.connectors.salesforce.proforma import proforma_openings_stream, proforma_sites_stream
from shared.connectors.salesforce.rest import SalesforceRest
from shared.connectors.salesforce.streams import salesforce_streams
from shared.connectors.workday.users import user_sites_stream, users_stream
from shared.pipeline.stream import StreamCatalog

WAGE_RATE_DAYS = 14
ACTUALS_REREAD_DAYS = 3


def hub_streams(
    edw: Engine | None = None,
    *,
    differential_pay: DifferentialPay = DifferentialPay.DOLLARS_ONLY,
    today: Today = utc_today,
    page_rows: int = 5000,
    gp_company_engine: Callable[[str], Engine] | None = None,
    gp_companies: Sequence[str] = (),
    batch_rows: int | None = None,
    change_tracked: Collection[str] = (),
    actuals_reread_days: int = ACTUALS_REREAD_DAYS,
    approved_budget: ApprovedBudget | None = None,
    hand_mappings: ReadHandMappings = lambda: NO_HAND_MAPPINGS,
    baseline_months: int = BASELINE_MONTHS,
    salesforce: SalesforceRest | None = None,
    salesforce_bulk: BulkQuery | None = None,
    dataverse: DataverseClient | None = None,
) -> StreamCatalog:
    """Every stream, reading Towne Park's SQL Server through ``edw`` (TP_EDW and TP_LEGION on one instance).

    ``today`` anchors Legion's rolling windows (tests and the sandbox pin it);
    ``batch_rows`` caps every stream's rows per staged batch (``SYNC_BATCH_ROWS``).
    ``change_tracked`` names the tables (``SHIFT_ENTITY``, ``WORKDAY_RLS_BISECURITY``,
    ``MASTER_NON_FINANCIAL``) whose streams read their changes on incremental runs.
    ``actuals_reread_days`` is how many days before its watermark each actuals
    stream reads again (``ACTUALS_REREAD_DAYS``).
    ``approved_budget`` holds a fixed year's budget to its approved revisions.
    ``hand_mappings`` reads the job-profile mappings made by hand in Dataverse;
    ``baseline_months`` is how many months from today's the daily budget streams write.
    Without ``edw`` (a hub set up without SQL Server) the catalog holds no SQL
    streams; without ``gp_company_engine`` it holds no GP stream; without ``salesforce`` no
    Salesforce stream (and the proforma sites also need ``dataverse``, their openings ``edw``);
    ``salesforce_bulk`` sends the large Salesforce reads through Bulk API 2.0.
    """
    catalog = StreamCatalog()
    if edw is not None:
        months = BudgetMonths(today, baseline_months)
        shifts, access = "SHIFT_ENTITY" in change_tracked, "WORKDAY_RLS_BISECURITY" in change_tracked
        codes, use = job_code_streams(
            edw, days=LastDays(SCHEDULE_DAYS, today), page_rows=page_rows, track_changes=shifts
        )
        for stream in (
            master_sites_stream(edw, page_rows, track_changes="MASTER_NON_FINANCIAL" in change_tracked),
            users_stream(edw, page_rows, track_changes=access),
            user_sites_stream(edw, page_rows, track_changes=access),
            codes,
            use,
            wage_rates_stream(
                edw, days=LastDays(WAGE_RATE_DAYS, today), differential=differential_pay, page_rows=page_rows
            ),
            budgets_stream(edw, page_rows=page_rows),
            *gl_actual_streams(edw, page_rows),
            scheduled_hours_stream(
                edw,
                today=today,
                reread_days=actuals_reread_days,
                differential=differential_pay,
                page_rows=page_rows,
                track_changes=shifts,
            ),
            worked_hours_stream(
                edw, reread_days=actuals_reread_days, differential=differential_pay, page_rows=page_rows
            ),
            daily_statistics_stream(edw, reread_days=actuals_reread_days, page_rows=page_rows),
            parking_rates_stream(edw, today=today, page_rows=page_rows),
            budget_monthly_stream(edw, approved=approved_budget, page_rows=page_rows),
            budget_statistics_stream(edw, months),
            payroll_budget_stream(
                edw, months, LastDays(SCHEDULE_DAYS, today), hand_mappings, page_rows=page_rows
            ),
        ):
            catalog.add(stream)
    if gp_company_engine is not None:
        catalog.add(invoice_payment_status_stream(gp_company_engine, gp_companies, page_rows))
        catalog.add(gp_customers_stream(gp_company_engine, gp_companies, page_rows))
    if salesforce is not None:
        for stream in salesforce_streams(salesforce, salesforce_bulk):
            catalog.add(stream)
        if dataverse is not None:
            catalog.add(proforma_sites_stream(salesforce, dataverse))
            if edw is not None:
                catalog.add(proforma_openings_stream(edw, dataverse, page_rows))
    if batch_rows is None:
        return catalog
    return StreamCatalog(replace(stream, batch_rows=min(stream.batch_rows, batch_rows)) for stream in catalog)
