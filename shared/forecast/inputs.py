"""The forecast's inputs for some sites and a year, read from Dataverse (never the EDW).

- budget: ``bs_budgetmonthly`` (site, 'yyyy-MM', summary category; the
  ``budget_monthly`` stream writes it from ``BUDGET_FINAL``);
- closed actuals: ``bs_glactual`` (the ``gl_actuals`` stream; a month with a
  row there is closed);
- actuals to date in open months: payroll from ``bs_payrolldetail.bs_actualcost``
  and external revenue from ``bs_sitestatisticdetail`` rows of type Actual
  (``bs_externalrevenue``), each loaded through its latest day;
- the contract: ``bs_mastercustomersite.bs_contracttypestring`` naming a
  Management Agreement (insurance's share, DOMAIN.md §5), and ``bs_district``
  for the many-sites form.

Each table's newest ``modifiedon`` among the rows read is the input's
watermark, kept with every snapshot so a reader can tell what it was computed
from.
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, Protocol

from shared.connectors.dataverse.keys import odata_literal
from shared.forecast.trending import EXTERNAL_REVENUE, PAYROLL, ActualToDate, MonthInputs

SITES = "bs_mastercustomersites"
BUDGETS = "bs_budgetmonthlies"
GL_ACTUALS = "bs_glactuals"
PAYROLL_DETAILS = "bs_payrolldetails"
STATISTIC_DETAILS = "bs_sitestatisticdetails"
ACTUAL_STATISTIC = 126840002  # bs_sitestatisticdetail.bs_type Actual (DOMAIN.md §8)
MANAGEMENT_AGREEMENT = "management agreement"
_SITES_PER_QUERY = 25  # keeps each $filter's or-chain well inside a URL's length


class DataverseRows(Protocol):
    """The one call of ``DataverseClient`` the reader needs."""

    def query(
        self, entity_set: str, select: Sequence[str], filter: str | None = None
    ) -> Iterator[dict[str, Any]]: ...


@dataclass
class SiteYear:
    """One site's inputs for a year: each month's inputs to the trending rules, by 'yyyy-MM'."""

    site: str
    year: int
    management_agreement: bool = False
    budget: dict[str, dict[str, Decimal]] = field(default_factory=lambda: defaultdict(dict))
    closed: dict[str, dict[str, Decimal]] = field(default_factory=lambda: defaultdict(dict))
    to_date: dict[str, dict[str, ActualToDate]] = field(default_factory=lambda: defaultdict(dict))

    def periods(self) -> list[str]:
        return [f"{self.year}-{month:02d}" for month in range(1, 13)]

    def month(self, period: str) -> MonthInputs:
        year, month = int(period[:4]), int(period[5:])
        return MonthInputs(
            days=calendar.monthrange(year, month)[1],
            budget=self.budget.get(period, {}),
            closed_actual=self.closed.get(period) if period in self.closed else None,
            to_date=self.to_date.get(period, {}),
            management_agreement=self.management_agreement,
        )


@dataclass(frozen=True)
class ForecastInputs:
    """Every site's inputs, and each input table's newest ``modifiedon`` (None when it had no rows)."""

    year: int
    sites: dict[str, SiteYear]
    watermarks: dict[str, str | None]


def district_sites(dataverse: DataverseRows, district: str) -> list[str]:
    """The sites ``bs_mastercustomersite`` places in ``district``, in site order."""
    rows = dataverse.query(SITES, ("bs_sitenumber",), f"bs_district eq {odata_literal(district)}")
    return sorted({str(row["bs_sitenumber"]) for row in rows if row.get("bs_sitenumber")})


def read_inputs(dataverse: DataverseRows, sites: Sequence[str], year: int) -> ForecastInputs:
    """The budget, closed actuals and actuals to date of ``sites`` in ``year``."""
    found = {site: SiteYear(site, year) for site in sites}
    newest: dict[str, str | None] = dict.fromkeys(
        (SITES, BUDGETS, GL_ACTUALS, PAYROLL_DETAILS, STATISTIC_DETAILS)
    )
    year_periods = f"startswith(bs_period,'{year}-')"
    days = f"bs_date ge {date(year, 1, 1).isoformat()} and bs_date le {date(year, 12, 31).isoformat()}"

    def rows(
        entity_set: str, select: tuple[str, ...], condition: str | None = None
    ) -> Iterator[dict[str, Any]]:
        for chunk in range(0, len(sites), _SITES_PER_QUERY):
            named = " or ".join(
                f"bs_sitenumber eq {odata_literal(site)}" for site in sites[chunk : chunk + _SITES_PER_QUERY]
            )
            where = f"({named})" + (f" and {condition}" if condition else "")
            for row in dataverse.query(entity_set, (*select, "bs_sitenumber", "modifiedon"), where):
                modified = row.get("modifiedon")
                if modified and (newest[entity_set] is None or str(modified) > str(newest[entity_set])):
                    newest[entity_set] = str(modified)
                if row.get("bs_sitenumber") in found:
                    yield row

    for row in rows(SITES, ("bs_contracttypestring",)):
        contract = str(row.get("bs_contracttypestring") or "").lower()
        found[row["bs_sitenumber"]].management_agreement = MANAGEMENT_AGREEMENT in contract
    for row in rows(BUDGETS, ("bs_period", "bs_summarycategory", "bs_amount"), year_periods):
        found[row["bs_sitenumber"]].budget[row["bs_period"]][row["bs_summarycategory"]] = _amount(
            row["bs_amount"]
        )
    for row in rows(GL_ACTUALS, ("bs_period", "bs_summarycategory", "bs_amount"), year_periods):
        found[row["bs_sitenumber"]].closed[row["bs_period"]][row["bs_summarycategory"]] = _amount(
            row["bs_amount"]
        )
    payroll = rows(PAYROLL_DETAILS, ("bs_date", "bs_actualcost"), f"{days} and bs_actualcost ne null")
    _add_to_date(found, payroll, PAYROLL, "bs_actualcost")
    revenue = rows(
        STATISTIC_DETAILS,
        ("bs_date", "bs_externalrevenue"),
        f"{days} and bs_type eq {ACTUAL_STATISTIC} and bs_externalrevenue ne null",
    )
    _add_to_date(found, revenue, EXTERNAL_REVENUE, "bs_externalrevenue")
    return ForecastInputs(year, found, newest)


def _add_to_date(
    found: Mapping[str, SiteYear], rows: Iterator[dict[str, Any]], category: str, column: str
) -> None:
    """Sum a daily feed per open month; it covers the month through its latest day."""
    sums: dict[tuple[str, str], list[Any]] = {}
    for row in rows:
        day = date.fromisoformat(str(row["bs_date"])[:10])
        key = (row["bs_sitenumber"], f"{day:%Y-%m}")
        total = sums.setdefault(key, [Decimal(0), 0])
        total[0] += _amount(row[column])
        total[1] = max(total[1], day.day)
    for (site, period), (amount, through) in sums.items():
        if period not in found[site].closed:
            found[site].to_date[period][category] = ActualToDate(amount, through)


def _amount(value: Any) -> Decimal:
    return Decimal(str(value or 0))
