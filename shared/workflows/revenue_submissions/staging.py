"""The SQL side of the deposit check: the data mart into TP_STAGE, and the figures it is checked against.

``load_data_mart`` replaces the site's month in
``TP_STAGE.dbo.REVENUE_DATAMART_DAILY_INVOICE`` in one transaction: the rows of
that site and month are deleted (what ``spREVENUE_DATAMART_DAILY_INVOICE_DELETE
@SiteParameter, @DateParameter`` does before the Logic App's inserts; the
procedure's body is not published, so the hub issues the equivalent DELETE in
the same transaction as the inserts) and the workbook's rows inserted. A
failure rolls both back: the month is never half-loaded.

The figures and the submitter's address are read as the Logic App reads them
(DOMAIN.md §9); its queries name the tables without a database, through the
TP_STAGE connection, and the hub reads the EDW objects where DOMAIN.md §4 puts them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import Engine, and_, delete, func, insert, select

from shared.sql.tables import (
    account_summary,
    stage_revenue_datamart_daily_invoice,
    vw_revenue_daily_detail_invoice,
    workday_site_salaries,
)
from shared.workflows.revenue_submissions.deposit_check import DepositFigures
from shared.workflows.revenue_submissions.workbook import DataMartRow

CASH_CATEGORY = "Cash Deposits to Local TP Bank Account"
DEPOSITS_ACCOUNT = "4785"
_ZERO = Decimal("0.00")


def month_bounds(period: str) -> tuple[date, date]:
    """The first day of ``period`` (yyyyMM) and of the month after."""
    year, month = int(period[:4]), int(period[4:])
    return date(year, month, 1), date(year + month // 12, month % 12 + 1, 1)


def load_data_mart(
    engine: Engine, site: str, period: str, file_name: str, rows: Sequence[DataMartRow]
) -> int:
    """Delete the site's month and insert ``rows`` in one transaction; how many rows were inserted."""
    table = stage_revenue_datamart_daily_invoice
    first, after = month_bounds(period)
    loaded_at = datetime.now(UTC).replace(tzinfo=None)
    values = [
        {
            "FILE_NAME": file_name,
            "SITE": site,
            "DATE": row.day,
            "REVENUE_CODE": row.revenue_code,
            "REVENUE_CATEGORY": row.revenue_category,
            "VALUE_TYPE": row.value_type,
            "VALUE": row.value,
            "IS_DRAFT": False,
            "DW_LOADED_DTTM": loaded_at,
        }
        for row in rows
    ]
    with engine.begin() as connection:
        connection.execute(
            delete(table).where(and_(table.c.SITE == site, table.c.DATE >= first, table.c.DATE < after))
        )
        if values:
            connection.execute(insert(table), values)
    return len(values)


def deposit_figures(engine: Engine, site: str, period: str) -> DepositFigures:
    """TPDeposit, TPCash and TPCollected for the site's month (``deposit_check``'s docstring)."""
    first, after = month_bounds(period)
    view, stage, summary = (
        vw_revenue_daily_detail_invoice,
        stage_revenue_datamart_daily_invoice,
        account_summary,
    )
    deposits = select(func.coalesce(func.sum(view.c.EXTERNALREVENUE), 0)).where(
        view.c.SITE == site, view.c.DEPOSIT_FLAG == "Y", view.c.DATE >= first, view.c.DATE < after
    )
    cash = select(func.coalesce(func.sum(stage.c.VALUE), 0)).where(
        stage.c.SITE == site,
        stage.c.REVENUE_CATEGORY == CASH_CATEGORY,
        stage.c.DATE >= first,
        stage.c.DATE < after,
    )
    collected = select(func.coalesce(func.sum(summary.c.BALANCE), 0)).where(
        summary.c.COST_CENTER == site, summary.c.PERIOD == period, summary.c.MAIN_ACCOUNT == DEPOSITS_ACCOUNT
    )
    with engine.connect() as connection:
        return DepositFigures(
            tp_deposits=_money(connection.execute(deposits).scalar_one()),
            cash_deposits=_money(connection.execute(cash).scalar_one()),
            collected_4785=_money(connection.execute(collected).scalar_one()),
        )


def submitter_email(engine: Engine, submitter: str) -> str | None:
    """The work email of SharePoint's "Last, First" as ``WORKDAY_SITE_SALARIES`` names them "First Last"."""
    last, comma, first = submitter.partition(",")
    full_name = f"{first.strip()} {last.strip()}" if comma else submitter.strip()
    table = workday_site_salaries
    query = (
        select(table.c.EMAIL_PRIMARY_WORK)
        .where(table.c.FULL_LEGAL_NAME == full_name, table.c.EMAIL_PRIMARY_WORK.is_not(None))
        .limit(1)
    )
    with engine.connect() as connection:
        found = connection.execute(query).scalar_one_or_none()
    return str(found) if found else None


def _money(value: object) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01")) if value is not None else _ZERO
