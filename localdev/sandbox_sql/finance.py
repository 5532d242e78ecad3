"""The EDW's money: chart of accounts, budgets, GP actuals after close, and the forecast.

A site's budget follows from its Legion staff (payroll and the accounts priced
as a share of it), its parking (the statistic accounts the budget rates are
read from) and its contract (which internal revenue accounts bill it).
Internal revenue is stored negative, as GP credits are (DOMAIN.md §5); claims
are budgeted at 0. ``BUDGET_FINAL`` covers every month of the previous and the
current year; ``ACCOUNT_SUMMARY`` the months closed by ``end_date`` (a month
closes on the 10th of the next), with some rows of ENTITY '06' that billing
excludes; ``vwFORECAST_CONSOLIDATED`` the current year by summary category.
"""

from __future__ import annotations

import random
import sqlite3
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time

from localdev.sandbox_sql.accounts import (
    ACCOUNTS,
    BY_NUMBER,
    CATEGORY_ACCOUNTS,
    CLAIMS,
    INTERNAL_REVENUE,
    Account,
)
from localdev.sandbox_sql.job_codes import BUDGET_PROFILE_ALIASES, COMMERCIAL, HOTEL
from localdev.sandbox_sql.loading import Row, datetime_text, insert
from localdev.sandbox_sql.revenue import SiteRevenue
from localdev.sandbox_sql.staffing import Employee
from localdev.sandbox_sql.world import Site, World
from shared.sql.tables import (
    account_summary,
    budget_datatab_pr,
    budget_final,
    chart_of_account,
    vw_forecast_consolidated,
)

CLOSE_DAY = 10  # a month's GP actuals reach ACCOUNT_SUMMARY by this day of the next month
_CATEGORY_REVENUE_ACCOUNTS = {revenue for revenue, _ in CATEGORY_ACCOUNTS.values()}
_ACCOUNT_COLUMNS = ("COST_CENTER", "PERIOD", "MAIN_ACCOUNT", "BALANCE")
AccountRow = tuple[str, str, str, float]  # cost center, period, main account, balance
_HOTEL_SEASON = (0.82, 0.88, 0.98, 1.0, 1.05, 1.1, 1.12, 1.1, 1.02, 1.05, 0.95, 0.85)
# Internal revenue accounts by the contract type they bill (P_CONTRACT_TYPE values of the sandbox).
_CONTRACT_ACCOUNTS = {
    "Fixed Fee": "4020",
    "Per Labor Hour": "4030",
    "Per Occupied Room": "4040",
    "Revenue Share": "4790",
    "Management Agreement": "4010",
}


@dataclass(frozen=True)
class Month:
    year: int
    month: int

    @property
    def period(self) -> str:
        return f"{self.year}{self.month:02d}"

    @property
    def days(self) -> int:
        following = date(self.year + self.month // 12, self.month % 12 + 1, 1)
        return (following - date(self.year, self.month, 1)).days

    @property
    def first_day(self) -> date:
        return date(self.year, self.month, 1)


@dataclass(frozen=True)
class _SiteBooks:
    """One site's inputs to its budget: what it sells, its open months, and its staff's expected work."""

    site: Site
    sells: SiteRevenue
    months: list[Month]
    jobs: Mapping[int, dict[str, tuple[float, float]]]  # by days in the month: job code → (hours, cost)


def write_finance(
    connection: sqlite3.Connection,
    rng: random.Random,
    world: World,
    *,
    staff: Mapping[Site, list[Employee]],
    revenue: Mapping[Site, SiteRevenue],
    end_date: date,
) -> None:
    """Every finance table of TP_EDW for the previous and the current year of ``end_date``."""
    insert(
        connection,
        chart_of_account,
        ("MAIN_ACCOUNT", "ACCOUNT_NAME", "IS_SUMMARY_CATEGORY"),
        ((account.number, account.name, account.category) for account in ACCOUNTS),
    )
    months = [Month(year, month) for year in (end_date.year - 1, end_date.year) for month in range(1, 13)]
    closed = _last_closed(end_date)
    loaded = datetime_text(datetime.combine(end_date, time(4, 15)))
    for site in world.sites:
        books = _SiteBooks(
            site,
            revenue[site],
            [month for month in months if _open_in(site, month)],
            {days: _job_totals(staff[site], days) for days in (28, 29, 30, 31)},
        )
        budget = list(_budget(rng, books))
        insert(connection, budget_final, _ACCOUNT_COLUMNS, budget)
        insert(
            connection,
            budget_datatab_pr,
            ("COST_CENTER", "YEAR", "MONTH", "JOB_PROFILE", "BALANCE_DESC", "BALANCE"),
            _payroll_budget(rng, books),
        )
        insert(
            connection,
            account_summary,
            (*_ACCOUNT_COLUMNS, "ENTITY"),
            _actuals(rng, site, [row for row in budget if row[1] <= closed]),
        )
        insert(
            connection,
            vw_forecast_consolidated,
            ("COST_CENTER", "PERIOD", "IS_SUMMARY_CATEGORY", "FD_BALANCE", "DW_LOADED_DTTM"),
            _forecast(rng, [row for row in budget if row[1].startswith(str(end_date.year))], loaded),
        )
    insert(connection, account_summary, (*_ACCOUNT_COLUMNS, "ENTITY"), _overhead(rng, world, months, closed))
    insert(
        connection,
        budget_datatab_pr,
        ("COST_CENTER", "YEAR", "MONTH", "JOB_PROFILE", "BALANCE_DESC", "BALANCE"),
        _unknown_site_payroll_budget(world, months),
    )


def _last_closed(end_date: date) -> str:
    """The latest period whose actuals are in ACCOUNT_SUMMARY on ``end_date``."""
    back = 1 if end_date.day >= CLOSE_DAY else 2
    index = end_date.year * 12 + end_date.month - 1 - back
    return f"{index // 12}{index % 12 + 1:02d}"


def _open_in(site: Site, month: Month) -> bool:
    last_day = date(month.year, month.month, month.days)
    return site.first_worked <= last_day and (site.last_worked is None or site.last_worked >= month.first_day)


def _job_totals(roster: list[Employee], days: int) -> dict[str, tuple[float, float]]:
    """The hours and cost each job code of a site is expected to work in a month of ``days`` days."""
    totals: dict[str, tuple[float, float]] = {}
    for employee in roster:
        if employee.stipend_only:
            continue
        if employee.job.salaried:
            hours, cost = 8.0 * days * 5 / 7, employee.hourly_rate * 2080 / 12
        else:
            hours = (
                days
                * (5 * employee.work_chance + 2 * employee.weekend_chance)
                / 7
                * employee.shift_minutes
                / 60
            )
            cost = hours * employee.hourly_rate
        before = totals.get(employee.job.code, (0.0, 0.0))
        totals[employee.job.code] = (before[0] + hours, before[1] + cost)
    return totals


def _season(site: Site, month: Month) -> float:
    return _HOTEL_SEASON[month.month - 1] if site.kind == HOTEL else 1.0


def _budget(rng: random.Random, books: _SiteBooks) -> Iterator[AccountRow]:
    """BUDGET_FINAL rows: payroll, PTEB, expenses, internal revenue (negative) and statistics."""
    site = books.site
    level = {account.number: rng.uniform(0.6, 1.4) for account in ACCOUNTS}
    shuttle = any(code.startswith("SHUTL") for code in books.jobs[30])
    leased = site.kind == COMMERCIAL or rng.random() < 0.15
    contract_accounts = [
        _CONTRACT_ACCOUNTS[part.strip()]
        for part in site.contract_type.split(",")
        if part.strip() in _CONTRACT_ACCOUNTS
    ]
    for month in books.months:
        payroll = sum(cost for _, cost in books.jobs[month.days].values())
        payroll = (payroll or 60_000 * site.wage_level) * _season(site, month)
        cost = 0.0
        for account in ACCOUNTS:
            if not _budgeted(account, shuttle=shuttle, leased=leased):
                continue
            balance = round(payroll * account.share * level[account.number], 2)
            cost += balance
            yield (site.number, month.period, account.number, balance)
        internal = cost * rng.uniform(1.06, 1.18)
        billed = [*contract_accounts, "4050"] if rng.random() < 0.3 else contract_accounts
        for number in billed:
            yield (site.number, month.period, number, -round(internal / len(billed), 2))
        yield from _statistics(site, books.sells, month)


def _budgeted(account: Account, *, shuttle: bool, leased: bool) -> bool:
    """Whether a site budgets ``account``: fuel and shuttle lease need shuttles, rents a leased lot."""
    if account.number in {"7050", "7700"}:
        return shuttle
    if account.number == "7170":
        return leased
    return account.share > 0.0 or account.category == CLAIMS


def _statistics(site: Site, sells: SiteRevenue, month: Month) -> Iterator[AccountRow]:
    """The statistic accounts the budget rates read: each category's revenue and count, rooms, comps."""
    season = _season(site, month)
    external = 0.0
    for parking in sells.parking:
        revenue_account, count_account = CATEGORY_ACCOUNTS[parking.category]
        count = round(parking.vehicles * month.days * season)
        revenue = round(count * parking.price / (1 + site.tax_rate), 2)
        external += revenue
        yield (site.number, month.period, revenue_account, revenue)
        yield (site.number, month.period, count_account, float(count))
        if parking.category in {"Valet Daily", "Self Daily"}:
            comps = "9540" if parking.category.startswith("Valet") else "9580"
            yield (site.number, month.period, comps, float(round(count * 0.02)))
    if external:
        yield (site.number, month.period, "9410", round(external, 2))
    if site.rooms:
        yield (
            site.number,
            month.period,
            "9440",
            float(round(site.rooms * sells.occupancy * month.days * season)),
        )


def _payroll_budget(rng: random.Random, books: _SiteBooks) -> Iterator[Row]:
    """BUDGET_DATATAB_PR: 'PR Hours' and 'Payroll' per job profile, mostly named as the Legion code."""
    site = books.site
    profiles: dict[str, str] = {}
    for code in books.jobs[30]:
        alias = BUDGET_PROFILE_ALIASES.get(code)
        profiles[code] = alias if alias and rng.random() < 0.3 else code
    unbudgeted = {code for code in profiles if rng.random() < 0.03}
    for month in books.months:
        for code, (hours, cost) in books.jobs[month.days].items():
            share = 0.0 if code in unbudgeted else rng.uniform(0.9, 1.1)
            yield (site.number, month.year, month.month, profiles[code], "PR Hours", round(hours * share, 2))
            yield (site.number, month.year, month.month, profiles[code], "Payroll", round(cost * share, 2))
        for profile, hours, cost in _unusual_profiles(site, books):
            scale = month.days / 30
            yield (site.number, month.year, month.month, profile, "PR Hours", round(hours * scale, 2))
            yield (site.number, month.year, month.month, profile, "Payroll", round(cost * scale, 2))


def _unusual_profiles(site: Site, books: _SiteBooks) -> Iterator[tuple[str, float, float]]:
    """Profiles no rule maps exactly: shift differentials at overnight sites, and a night auditor
    (no Legion code is like it) at one site in five; each with its hours and cost for a 30-day month.

    Drawn from the site's own stream, so the rest of the finance tables keep their values."""
    rng = random.Random(f"{site.number}/payroll-profiles")
    jobs = books.jobs[30]
    if site.overnight:
        for code in ("GSA", "VALET"):
            if code in jobs:
                hours = round(jobs[code][0] * 0.12, 2)
                yield f"{code} SHIFT DIFF", hours, round(hours * 1.5, 2)
    if rng.random() < 0.2:
        hours = round(rng.uniform(120, 220), 2)
        yield "NIGHTAUD", hours, round(hours * 17.25, 2)


def _unknown_site_payroll_budget(world: World, months: list[Month]) -> Iterator[Row]:
    """A payroll budget for a site number no master row has (a proforma or mistyped site): quarantined."""
    taken = {site.number for site in world.sites}
    number = next(f"{candidate:04d}" for candidate in range(8999, 0, -1) if f"{candidate:04d}" not in taken)
    for month in months:
        yield (number, month.year, month.month, "GSA", "PR Hours", 640.0)
        yield (number, month.year, month.month, "GSA", "Payroll", 10_560.0)


def _actuals(rng: random.Random, site: Site, budget: list[AccountRow]) -> Iterator[Row]:
    """ACCOUNT_SUMMARY for closed months: the budget give or take, claims when they happen."""
    periods: list[str] = []
    for number, period, account, balance in budget:
        if period not in periods:
            periods.append(period)
        if BY_NUMBER[account].category == CLAIMS:
            amount = round(rng.uniform(200, 6000), 2) if rng.random() < 0.12 else 0.0
        else:
            amount = round(balance * rng.uniform(0.85, 1.15), 2)
        yield (number, period, account, amount, site.company)
    for period in periods:
        if site.deposits:
            yield (site.number, period, "4785", -round(rng.uniform(5_000, 60_000), 2), site.company)
        if rng.random() < 0.05:  # an intercompany allocation that billing must not pass on
            yield (site.number, period, "7016", round(rng.uniform(500, 5000), 2), "06")


def _forecast(rng: random.Random, budget: list[AccountRow], loaded: str) -> Iterator[Row]:
    """vwFORECAST_CONSOLIDATED: the budget by summary category, revenue positive, give or take."""
    totals: dict[tuple[str, str, str], float] = {}
    for number, period, account, balance in budget:
        category = BY_NUMBER[account].category
        if category is None or account in _CATEGORY_REVENUE_ACCOUNTS:  # 9410 is their total
            continue
        sign = -1.0 if category == INTERNAL_REVENUE else 1.0
        key = (number, period, category)
        totals[key] = totals.get(key, 0.0) + sign * balance
    for (number, period, category), total in totals.items():
        yield (number, period, category, round(total * rng.uniform(0.95, 1.05), 2), loaded)


def _overhead(rng: random.Random, world: World, months: list[Month], closed: str) -> Iterator[Row]:
    """Actuals of cost centers that are not sites: district overhead (P4xx) and benefits clearing (B100)."""
    for month in months:
        if month.period > closed:
            break
        for district in world.districts:
            yield (district.cost_center, month.period, "6000", round(rng.uniform(9_000, 12_000), 2), "02")
            yield (district.cost_center, month.period, "7300", round(rng.uniform(300, 2_500), 2), "02")
        yield ("B100", month.period, "6500", -round(rng.uniform(1e5, 3e5), 2), "02")
