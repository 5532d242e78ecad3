"""The daily payroll budget: ``BUDGET_DATATAB_PR`` through the job-profile mapping → ``bs_payrolldetail``.

The payroll budget is kept per cost center, month and Workday job profile
('PR Hours' and 'Payroll', DOMAIN.md §4); the forecast works per Legion job
code and day. Each profile with 'PR Hours' > 0 is placed on codes by the
mapping's rules (``job_profiles``, with the hand mappings of
``bs_forecastjobprofilemapping`` first), its month shared among them by their
weights, and each code's month spread over the days (``daily_spread``, whole
minutes and cents, largest remainder), as ``bs_budgethours`` and
``bs_budgetcost`` of the day's ``bs_payrolldetail`` row, keyed (site, job
code, date). Scheduled and actual hours are other streams' columns of the same
rows; this one never writes them.

Salaried codes follow DOMAIN.md §1: 8 hours a day for each active employee on
the code, and the site's allocated salary (``WORKDAY_SITE_SALARIES``, summed
per cost center) / 365 a day, shared among its salaried codes by their active
employees. Which codes are salaried is not in any source the hub reads, so
it is an option (:data:`SALARIED_JOB_CODES`, the sandbox's).

Each run records the mapping's coverage: each month's totals in its run
record (``report``), and each site's month beside its batches (the record's
``report_path``: several hundred sites would outgrow a record and its
events): the budgeted hours, the hours each rule placed, the unmapped
profiles and their hours, the shift differentials left out and the hours
written, so the known gap (12.9M budgeted against 15M+ mapped, DOMAIN.md §5)
is visible and explained: ``GET /api/v1/forecast/payroll-coverage`` reads it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import Engine, and_, case, func, select

from shared.connectors.dataverse.job_profile_mappings import HandMappings, ReadHandMappings
from shared.connectors.dataverse.sink import DataverseTarget
from shared.connectors.edw.budget_months import BudgetMonths, known_sites
from shared.connectors.edw.daily_spread import apportion, cents, minutes, spread_units
from shared.connectors.edw.job_profiles import MappingRule, map_profile
from shared.connectors.legion.days import LastDays
from shared.connectors.legion.job_codes import read_job_code_use
from shared.pipeline.stream import ReadReport, ReadWindow, Record, Row, Stream
from shared.sites import KnownSite, Month, SiteNumber, site_key, site_number
from shared.sql.engines import stream_rows
from shared.sql.tables import budget_datatab_pr, workday_site_salaries

STREAM = "daily_payroll_budget"
TARGET = DataverseTarget(
    entity_set="bs_payrolldetails", alternate_key=("bs_sitenumber", "bs_jobcode", "bs_date")
)
SALARIED_JOB_CODES = ("MGR", "ASTMGR")
SALARIED_HOURS_PER_DAY = 8
DAYS_PER_YEAR = 365
_HOUR = Decimal(60)


class PayrollBudgetDay(BaseModel):
    """One job code's budget at one site for one day, in whole minutes and cents."""

    site: SiteNumber
    site_known: KnownSite
    job_code: str = Field(min_length=1)
    date: date
    minutes: int
    cents: int


@dataclass
class SiteMonthCoverage:
    """How much of one site's month of payroll budget the mapping placed, and how."""

    site: str
    period: str
    budgeted_hours: Decimal = Decimal(0)
    written_hours: Decimal = Decimal(0)
    differential_hours: Decimal = Decimal(0)
    hours_by_rule: dict[str, Decimal] = field(default_factory=dict)
    unmapped_profiles: list[str] = field(default_factory=list)

    def placed(self, rule: MappingRule, profile: str, hours: Decimal) -> None:
        if rule is MappingRule.SHIFT_DIFFERENTIAL:
            self.differential_hours += hours
            return
        self.budgeted_hours += hours
        self.hours_by_rule[rule.value] = self.hours_by_rule.get(rule.value, Decimal(0)) + hours
        if rule is MappingRule.UNMAPPED:
            self.unmapped_profiles.append(profile)

    def as_json(self) -> dict[str, Any]:
        unmapped = self.hours_by_rule.get(MappingRule.UNMAPPED.value, Decimal(0))
        return {
            "site": self.site,
            "period": self.period,
            "budgetedHours": float(self.budgeted_hours),
            "mappedHours": float(self.budgeted_hours - unmapped),
            "writtenHours": round(float(self.written_hours), 2),
            "hoursByRule": {rule: float(hours) for rule, hours in sorted(self.hours_by_rule.items())},
            "unmappedHours": float(unmapped),
            "unmappedProfiles": sorted(self.unmapped_profiles),
            "shiftDifferentialHours": float(self.differential_hours),
        }


@dataclass(frozen=True)
class _Inputs:
    """What every site's month needs, read once a run."""

    known: frozenset[str]
    active: dict[str, dict[str, int]]  # site → job code → active employees
    allocated_salary: dict[str, Decimal]  # site → allocated salary a year
    hand: HandMappings
    salaried: frozenset[str]


def _profile_budget(months: Sequence[Month]) -> Any:
    """'PR Hours' and 'Payroll' per cost center, month and job profile (query 5, every site at once)."""
    pr = budget_datatab_pr.c

    def summed(description: str, label: str) -> Any:
        return func.coalesce(func.sum(case((pr.BALANCE_DESC == description, pr.BALANCE))), 0).label(label)

    return (
        select(
            pr.COST_CENTER.label("cost_center"),
            pr.YEAR.label("year"),
            pr.MONTH.label("month"),
            pr.JOB_PROFILE.label("job_profile"),
            summed("PR Hours", "hours"),
            summed("Payroll", "cost"),
        )
        .where(
            and_(
                pr.YEAR * 100 + pr.MONTH >= months[0].year * 100 + months[0].month,
                pr.YEAR * 100 + pr.MONTH <= months[-1].year * 100 + months[-1].month,
            )
        )
        .group_by(pr.COST_CENTER, pr.YEAR, pr.MONTH, pr.JOB_PROFILE)
        .order_by(pr.COST_CENTER, pr.YEAR, pr.MONTH, pr.JOB_PROFILE)
    )


def _allocated_salaries(edw: Engine) -> dict[str, Decimal]:
    salaries = workday_site_salaries.c
    statement = select(
        salaries.COST_CENTER, func.sum(salaries.ALLOCATION_PER_COST_CENTER_AMOUNT).label("allocated")
    ).group_by(salaries.COST_CENTER)
    allocated: dict[str, Decimal] = defaultdict(Decimal)
    for page in stream_rows(edw, statement):
        for row in page:
            allocated[site_key(row["COST_CENTER"])] += Decimal(str(row["allocated"] or 0))
    return allocated


def _active_codes(edw: Engine, days: LastDays) -> dict[str, dict[str, int]]:
    active: dict[str, dict[str, int]] = defaultdict(dict)
    for use in read_job_code_use(edw, days, 5000):
        if use["active_employees"] > 0:
            active[use["site"]][use["job_code"]] = use["active_employees"]
    return active


class PayrollBudgetRead:
    """One run's read: the days of every site's month, and the mapping's coverage once they are read."""

    def __init__(self, edw: Engine, months: Sequence[Month], inputs: _Inputs, page_rows: int) -> None:
        self._edw, self._months, self._inputs, self._page_rows = edw, months, inputs, page_rows
        self._coverage: list[SiteMonthCoverage] = []

    def __iter__(self) -> Iterator[Sequence[Row]]:
        # A few dozen profiles per site and month: held whole, so '170' and '0170' meet before spreading.
        by_site_month: dict[tuple[str, int, int], list[dict[str, Any]]] = defaultdict(list)
        for rows in stream_rows(self._edw, _profile_budget(self._months), self._page_rows):
            for row in rows:
                site = site_number(row["cost_center"])
                if site is not None:
                    by_site_month[(site, int(row["year"]), int(row["month"]))].append(row)
        page: list[Row] = []
        for key in sorted(by_site_month):
            page += self._site_month(*key, by_site_month[key])
            if len(page) >= self._page_rows:
                yield page
                page = []
        if page:
            yield page

    def report(self) -> ReadReport:
        """The coverage per site and month (the detail), and each month's totals (the run record's)."""
        sites = [coverage.as_json() for coverage in self._coverage]
        months: dict[str, dict[str, Any]] = {}
        for site in sites:
            month = months.setdefault(
                site["period"], {"period": site["period"], "sites": 0, "hoursByRule": {}}
            )
            month["sites"] += 1
            for name in (
                "budgetedHours",
                "mappedHours",
                "writtenHours",
                "unmappedHours",
                "shiftDifferentialHours",
            ):
                month[name] = round(month.get(name, 0.0) + site[name], 2)
            for rule, hours in site["hoursByRule"].items():
                month["hoursByRule"][rule] = round(month["hoursByRule"].get(rule, 0.0) + hours, 2)
            month["unmappedProfiles"] = month.get("unmappedProfiles", 0) + len(site["unmappedProfiles"])
        return ReadReport(
            summary={"payrollCoverage": [months[period] for period in sorted(months)]},
            detail={"payrollCoverage": sites},
        )

    def _site_month(self, site: str, year: int, month_number: int, rows: list[dict[str, Any]]) -> list[Row]:
        """A site's month: each profile placed, each code's month spread over its days."""
        inputs, month = self._inputs, Month(year, month_number)
        active = inputs.active.get(site, {})
        coverage = SiteMonthCoverage(site, month.dashed)
        totals: dict[str, list[int]] = defaultdict(lambda: [0, 0])  # code → [minutes, cents]
        merged: dict[str, list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
        for row in rows:  # '170' and '0170' budget the same site
            profile = str(row["job_profile"] or "").strip().upper()
            merged[profile][0] += Decimal(str(row["hours"] or 0))
            merged[profile][1] += Decimal(str(row["cost"] or 0))
        budgeted = [
            (profile, hours, cost)
            for profile, (hours, cost) in sorted(merged.items())
            if hours > 0 and profile
        ]
        if site not in inputs.known:  # quarantined as budgeted, one row a profile: no rule is applied
            return [
                {"site": site, "site_known": False, "job_code": profile, "date": month.first_day,
                 "minutes": minutes(hours), "cents": cents(cost)}
                for profile, hours, cost in budgeted
            ]  # fmt: skip
        for profile, hours, cost in budgeted:
            mapping = map_profile(profile, active, inputs.hand.code_for(site, profile))
            coverage.placed(mapping.rule, profile, hours)
            if not mapping.codes:
                continue
            codes = sorted(mapping.codes)
            weights = [mapping.codes[code] for code in codes]
            shares = zip(
                codes, apportion(minutes(hours), weights), apportion(cents(cost), weights), strict=True
            )
            for code, code_minutes, code_cents in shares:
                totals[code][0] += code_minutes
                totals[code][1] += code_cents
        self._salaried(site, month, active, totals)
        if site not in inputs.known:
            self._coverage.append(coverage)
            return [
                {
                    "site": site,
                    "site_known": False,
                    "job_code": code,
                    "date": month.first_day,
                    "minutes": total[0],
                    "cents": total[1],
                }
                for code, total in sorted(totals.items())
            ]
        days: list[Row] = []
        for code, (code_minutes, code_cents) in sorted(totals.items()):
            coverage.written_hours += Decimal(code_minutes) / _HOUR
            spread = zip(
                spread_units(code_minutes, month.days), spread_units(code_cents, month.days), strict=True
            )
            for day, (day_minutes, day_cents) in enumerate(spread):
                days.append(
                    {"site": site, "site_known": True, "job_code": code,
                     "date": month.first_day + timedelta(days=day), "minutes": day_minutes, "cents": day_cents}
                )  # fmt: skip
        self._coverage.append(coverage)
        return days

    def _salaried(
        self, site: str, month: Month, active: dict[str, int], totals: dict[str, list[int]]
    ) -> None:
        """Salaried codes' months by DOMAIN.md §1, whatever hours their profiles budgeted."""
        salaried = sorted(code for code in totals if code in self._inputs.salaried)
        if not salaried:
            return
        employees = [active.get(code, 0) for code in salaried]
        yearly = self._inputs.allocated_salary.get(site, Decimal(0))
        month_cents = cents(yearly * month.days / DAYS_PER_YEAR)
        for code, count, code_cents in zip(
            salaried, employees, apportion(month_cents, employees), strict=True
        ):
            totals[code] = [SALARIED_HOURS_PER_DAY * 60 * count * month.days, code_cents]


def to_payroll_detail(day: PayrollBudgetDay) -> Record:
    """The budget columns of the day's ``bs_payrolldetail`` row; hours from whole minutes."""
    return {
        "bs_sitenumber": day.site,
        "bs_jobcode": day.job_code,
        "bs_date": day.date.isoformat(),
        "bs_budgethours": round(day.minutes / 60, 6) + 0.0,
        "bs_budgetcost": float(Decimal(day.cents) / 100) + 0.0,
    }


def payroll_budget_stream(
    edw: Engine,
    months: BudgetMonths,
    active_days: LastDays,
    hand_mappings: ReadHandMappings,
    *,
    salaried_codes: Collection[str] = SALARIED_JOB_CODES,
    page_rows: int = 5000,
) -> Stream[PayrollBudgetDay]:
    """The ``daily_payroll_budget`` stream; ``active_days`` are the days whose shifts make a code active."""

    def read(window: ReadWindow) -> PayrollBudgetRead:
        inputs = _Inputs(
            known=known_sites(edw),
            active=_active_codes(edw, active_days),
            allocated_salary=_allocated_salaries(edw),
            hand=hand_mappings(),
            salaried=frozenset(code.upper() for code in salaried_codes),
        )
        return PayrollBudgetRead(edw, months.of(window), inputs, page_rows)

    return Stream(name=STREAM, model=PayrollBudgetDay, read=read, transform=to_payroll_detail, target=TARGET)
