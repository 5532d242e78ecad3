"""GL actuals after close: ``ACCOUNT_SUMMARY`` → ``bs_glactual`` by category and ``bs_glaccountactual`` by account.

GP's month-end actuals reach ``ACCOUNT_SUMMARY`` only after close (DOMAIN.md
§3 "Reverse flows", §4 "Refresh cadence"), so every period the table holds is
a closed one. Two streams read it:

- ``gl_actuals``: per site, period and summary category, summed as the
  budget-against-actual read sums them (``shared/live_reads/summary.py``):
  external revenue is the statistic account 9410 (the six category revenue
  accounts are its parts, not added again), internal revenue is turned
  positive (GP credits are negative, DOMAIN.md §5), every ENTITY counts.
  A site with any row in a period gets all eight categories, zero where it
  has none, so a category emptied by a re-close reaches Dataverse as 0.
- ``gl_account_actuals``: per site, period and main account for the accounts
  billing's Billable Accounts component can pass on (DOMAIN.md §7: payroll
  6000-6199, PTEB 6200 + 6399 + 6500, expenses 7000-7999), with the amount
  billing uses beside the total: expenses leave out ENTITY '06' (DOMAIN.md §4
  "PA billing queries").

**A re-closed period.** ``ACCOUNT_SUMMARY`` carries no change date, so the
hub cannot ask what a re-close touched. Each incremental run re-reads the
newest closed period and the twelve before it (cursor: the period as the
number yyyyMM, look-back 100 = the same month a year earlier), and the
engine compares every record with the digest it sent last time: a period
re-closed with changes writes exactly the records whose amounts changed,
and a quiet run writes nothing. A correction older than a year needs a
backfill (``windowStart`` = the period as yyyyMM).

Cost centers that are not sites (P4.., B100, 9000s) are skipped, as the
budget stream skips them; sites a source stored unpadded are merged with
their padded spelling.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, StringConstraints
from sqlalchemy import Engine, and_, case, func, literal, or_, select

from shared.connectors.dataverse.sink import DataverseTarget
from shared.pipeline.stream import ReadWindow, Record, Row, Stream
from shared.sites import site_key, site_number
from shared.sql.engines import stream_rows
from shared.sql.tables import account_summary, chart_of_account

CATEGORY_STREAM = "gl_actuals"
ACCOUNT_STREAM = "gl_account_actuals"
CATEGORY_TARGET = DataverseTarget(
    entity_set="bs_glactuals", alternate_key=("bs_sitenumber", "bs_period", "bs_summarycategory")
)
ACCOUNT_TARGET = DataverseTarget(
    entity_set="bs_glaccountactuals", alternate_key=("bs_sitenumber", "bs_period", "bs_mainaccount")
)
RECLOSE_LOOKBACK = 100  # on a yyyyMM number: the same month one year earlier
EXTERNAL_REVENUE = "EXTERNAL REVENUE"
INTERNAL_REVENUE = "INTERNAL REVENUE"
EXTERNAL_REVENUE_ACCOUNT = "9410"
SUMMARY_CATEGORIES = (
    EXTERNAL_REVENUE,
    INTERNAL_REVENUE,
    "PAYROLL",
    "CLAIMS",
    "PARKING RENTS",
    "OTHER EXPENSE",
    "PTEB",
    "INSURANCE",
)
PAYROLL_ACCOUNTS = ("6000", "6199")
PTEB_ACCOUNTS = ("6200", "6399", "6500")
EXPENSE_ACCOUNTS = ("7000", "7999")
BILLING_EXCLUDED_ENTITY = "06"
_CENT = Decimal("0.01")

Period = Annotated[str, StringConstraints(pattern=r"^\d{4}(0[1-9]|1[0-2])$")]


class GlCategoryActual(BaseModel):
    """One cost center's closed actual for one period and summary category."""

    cost_center: str
    period: Period
    period_number: int  # the cursor: yyyyMM as a number
    category: str
    amount: Decimal


class GlAccountActual(BaseModel):
    """One cost center's closed actual on one billable main account, in total and as billing counts it."""

    cost_center: str
    period: Period
    period_number: int
    main_account: str
    category: str | None
    amount: Decimal
    billable_amount: Decimal


def _first_period(window: ReadWindow) -> str:
    return str(window.start) if window.start is not None else "000000"


def _last_period(window: ReadWindow) -> str:
    """The last period before the window's end (exclusive), or the highest there is."""
    return str(int(window.end) - 1) if window.end is not None else "999999"


def _in_window(window: ReadWindow) -> Any:
    period = account_summary.c.PERIOD
    return and_(period >= _first_period(window), period <= _last_period(window))


def read_category_actuals(edw: Engine, window: ReadWindow, page_rows: int) -> Iterator[Sequence[Row]]:
    """Each site's actual per closed period and category, in period order, every category present."""
    summary, coa = account_summary.c, chart_of_account.c
    category = coa.IS_SUMMARY_CATEGORY
    counted = or_(category != EXTERNAL_REVENUE, summary.MAIN_ACCOUNT == EXTERNAL_REVENUE_ACCOUNT)
    statement = (
        select(
            summary.PERIOD.label("period"),
            summary.COST_CENTER.label("cost_center"),
            category.label("category"),
            func.sum(summary.BALANCE).label("amount"),
        )
        .select_from(account_summary.join(chart_of_account, summary.MAIN_ACCOUNT == coa.MAIN_ACCOUNT))
        .where(_in_window(window), category.is_not(None), counted)
        .group_by(summary.PERIOD, summary.COST_CENTER, category)
        .order_by(summary.PERIOD, summary.COST_CENTER, category)
    )
    return _by_period(stream_rows(edw, statement, page_rows), _complete_categories, page_rows)


def read_account_actuals(edw: Engine, window: ReadWindow, page_rows: int) -> Iterator[Sequence[Row]]:
    """Each site's actual per closed period on each billable account, in period order."""
    summary, coa = account_summary.c, chart_of_account.c
    account = summary.MAIN_ACCOUNT
    expense = and_(account >= EXPENSE_ACCOUNTS[0], account <= EXPENSE_ACCOUNTS[1])
    billable = or_(and_(account >= PAYROLL_ACCOUNTS[0], account <= PAYROLL_ACCOUNTS[1]), expense)
    passed_on = case(
        (and_(expense, summary.ENTITY == BILLING_EXCLUDED_ENTITY), literal(0)), else_=summary.BALANCE
    )
    statement = (
        select(
            summary.PERIOD.label("period"),
            summary.COST_CENTER.label("cost_center"),
            account.label("main_account"),
            func.max(coa.IS_SUMMARY_CATEGORY).label("category"),
            func.sum(summary.BALANCE).label("amount"),
            func.sum(passed_on).label("billable_amount"),
        )
        .select_from(account_summary.outerjoin(chart_of_account, account == coa.MAIN_ACCOUNT))
        .where(_in_window(window), or_(billable, account.in_(PTEB_ACCOUNTS)))
        .group_by(summary.PERIOD, summary.COST_CENTER, account)
        .order_by(summary.PERIOD, summary.COST_CENTER, account)
    )
    return _by_period(stream_rows(edw, statement, page_rows), _merged_accounts, page_rows)


def _by_period(
    pages: Iterator[list[dict[str, Any]]],
    settle: Callable[[list[dict[str, Any]]], list[dict[str, Any]]],
    page_rows: int,
) -> Iterator[Sequence[Row]]:
    """Rows regrouped one period at a time (SQL orders by period), each period settled by ``settle``."""
    period: str | None = None
    held: list[dict[str, Any]] = []
    for page in pages:
        for row in page:
            if row["period"] != period and held:
                yield from _pages(settle(held), page_rows)
                held = []
            period = row["period"]
            held.append(row)
    if held:
        yield from _pages(settle(held), page_rows)


def _pages(rows: list[dict[str, Any]], page_rows: int) -> Iterator[Sequence[Row]]:
    for start in range(0, len(rows), page_rows):
        yield rows[start : start + page_rows]


def _complete_categories(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One period's rows merged per site ('170' with '0170'), with every category, zero when absent."""
    totals: dict[str, dict[str, Decimal]] = {}
    for row in rows:
        site = totals.setdefault(site_key(row["cost_center"]), dict.fromkeys(SUMMARY_CATEGORIES, Decimal(0)))
        site[row["category"]] = site.get(row["category"], Decimal(0)) + _decimal(row["amount"])
    period = rows[0]["period"]
    return [
        {
            "cost_center": site,
            "period": period,
            "period_number": int(period),
            "category": name,
            "amount": amount,
        }
        for site, amounts in sorted(totals.items())
        for name, amount in amounts.items()
    ]


def _merged_accounts(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One period's account rows merged per site ('170' with '0170')."""
    merged: dict[tuple[str, str], dict[str, Any]] = {}
    for row in rows:
        key = (site_key(row["cost_center"]), row["main_account"])
        if key not in merged:
            merged[key] = {**row, "cost_center": key[0], "period_number": int(row["period"])}
            continue
        for name in ("amount", "billable_amount"):
            merged[key][name] = _decimal(merged[key][name]) + _decimal(row[name])
    return [merged[key] for key in sorted(merged)]


def _decimal(value: Any) -> Decimal:
    return Decimal(str(value or 0))


def dataverse_period(period: str) -> str:
    """yyyyMM as the forecast tables write it: 'yyyy-MM' (DOMAIN.md §8, ``bs_payroll``)."""
    return f"{period[:4]}-{period[4:]}"


def _money(value: Decimal) -> float:
    return float(value.quantize(_CENT)) + 0.0  # + 0.0 turns -0.0 into 0.0


def to_gl_actual(actual: GlCategoryActual) -> Record | None:
    """The ``bs_glactual`` record; None for a cost center that is not a site."""
    site = site_number(actual.cost_center)
    if site is None:
        return None
    amount = -actual.amount if actual.category == INTERNAL_REVENUE else actual.amount
    return {
        "bs_sitenumber": site,
        "bs_period": dataverse_period(actual.period),
        "bs_summarycategory": actual.category,
        "bs_amount": _money(amount),
    }


def to_gl_account_actual(actual: GlAccountActual) -> Record | None:
    """The ``bs_glaccountactual`` record; None for a cost center that is not a site."""
    site = site_number(actual.cost_center)
    if site is None:
        return None
    return {
        "bs_sitenumber": site,
        "bs_period": dataverse_period(actual.period),
        "bs_mainaccount": actual.main_account,
        "bs_summarycategory": actual.category,
        "bs_amount": _money(actual.amount),
        "bs_billableamount": _money(actual.billable_amount),
    }


def gl_actual_streams(
    edw: Engine, page_rows: int = 5000
) -> tuple[Stream[GlCategoryActual], Stream[GlAccountActual]]:
    """The ``gl_actuals`` and ``gl_account_actuals`` streams, both re-reading a year of closed periods."""

    def categories(window: ReadWindow) -> Iterator[Sequence[Row]]:
        return read_category_actuals(edw, window, page_rows)

    def accounts(window: ReadWindow) -> Iterator[Sequence[Row]]:
        return read_account_actuals(edw, window, page_rows)

    return (
        Stream(
            name=CATEGORY_STREAM,
            model=GlCategoryActual,
            read=categories,
            transform=to_gl_actual,
            target=CATEGORY_TARGET,
            cursor="period_number",
            lookback=RECLOSE_LOOKBACK,
        ),
        Stream(
            name=ACCOUNT_STREAM,
            model=GlAccountActual,
            read=accounts,
            transform=to_gl_account_actual,
            target=ACCOUNT_TARGET,
            cursor="period_number",
            lookback=RECLOSE_LOOKBACK,
        ),
    )
