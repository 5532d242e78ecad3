"""Budget variance and the forecast's snapshot on the local host, against figures worked out here from the sandbox SQL.

The host syncs master sites, budget monthly and GL actuals itself (``POST /api/v1/syncs/...``); the
budget the variance must show is the test's own SQL sum of ``BUDGET_FINAL``
(``budget_monthly_from_budget_final``). A few days of ``bs_payrolldetail.bs_actualcost`` in the open
month are written into the sandbox Dataverse as the worked-hours stream would, so the test knows the
actual to date exactly. The expected variance is then computed here, from the SQL and
DOMAIN.md §5's rules written out again, not with the hub's trending module.
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from collections.abc import Iterator
from contextlib import closing
from datetime import date
from decimal import Decimal
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from localdev.sandbox_sql import SandboxSummary
from tests.fixtures.dataverse_sandbox import DataverseSandbox
from tests.fixtures.hub_host import HubHost
from tests.telemetry.telemetry_world import finished

pytestmark = pytest.mark.services

CATEGORIES = (
    "EXTERNAL REVENUE",
    "INTERNAL REVENUE",
    "PAYROLL",
    "CLAIMS",
    "PARKING RENTS",
    "OTHER EXPENSE",
    "PTEB",
    "INSURANCE",
)
COSTS = ("PAYROLL", "CLAIMS", "PARKING RENTS", "OTHER EXPENSE", "PTEB", "INSURANCE")
PAID_DAYS = 9  # days of the open month with payroll actuals
Amounts = dict[str, dict[str, Decimal]]  # by 'yyyy-MM', by category


def by_category(rows: Any) -> Amounts:
    """Rows of (period yyyyMM, account, category, balance) summed as Towne Park's summary does."""
    totals: Amounts = defaultdict(lambda: dict.fromkeys(CATEGORIES, Decimal(0)))
    for period, account, category, balance in rows:
        if category is None or (category == "EXTERNAL REVENUE" and account != "9410"):
            continue
        sign = -1 if category == "INTERNAL REVENUE" else 1
        totals[f"{period[:4]}-{period[4:]}"][category] += sign * Decimal(str(balance))
    return {
        period: {c: a.quantize(Decimal("0.01")) for c, a in amounts.items()}
        for period, amounts in totals.items()
    }


@pytest.fixture
def edw(hub_sql_summary: SandboxSummary) -> Iterator[sqlite3.Connection]:
    connection = sqlite3.connect(f"file:{hub_sql_summary.folder / 'TP_EDW.sqlite'}?mode=ro", uri=True)
    with closing(connection):
        yield connection


def source_amounts(edw: sqlite3.Connection, table: str, site: str, year: int) -> Amounts:
    rows = edw.execute(
        f"SELECT s.PERIOD, s.MAIN_ACCOUNT, c.IS_SUMMARY_CATEGORY, s.BALANCE FROM {table} s "
        "JOIN CHART_OF_ACCOUNT c ON c.MAIN_ACCOUNT = s.MAIN_ACCOUNT WHERE s.COST_CENTER = ? AND s.PERIOD LIKE ?",
        (site, f"{year}%"),
    )
    return by_category(rows)


@pytest.fixture
def site(edw: sqlite3.Connection) -> str:
    """The first site the master-sites sync lands (it has a name and an address) and that budgets all year."""
    found = edw.execute(
        "SELECT SITE FROM MASTER_NON_FINANCIAL WHERE coalesce(SITE_NAME, '') <> '' AND coalesce(STREET_ADDRESS, '') <> '' "
        "AND coalesce(CITY, '') <> '' AND coalesce(STATE, '') <> '' AND SITE IN "
        "(SELECT COST_CENTER FROM BUDGET_FINAL GROUP BY COST_CENTER HAVING count(DISTINCT PERIOD) = 24) ORDER BY SITE"
    ).fetchone()
    assert found is not None
    return str(found[0])


@pytest.fixture
def budget_monthly_from_budget_final(
    edw: sqlite3.Connection, hub_sql_summary: SandboxSummary, site: str
) -> Amounts:
    """The site's year of BUDGET_FINAL summed by category with the test's own SQL: what the ``budget_monthly``
    stream, run by the test, must have written to bs_budgetmonthly for the variance to match."""
    return source_amounts(edw, "BUDGET_FINAL", site, hub_sql_summary.last_payroll_day.year)


@pytest.fixture
def payroll_to_date(
    dataverse_sandbox: DataverseSandbox, hub_sql_summary: SandboxSummary, site: str
) -> Decimal:
    """A few days of worked cost in the open month, as the payroll-actuals stream writes bs_payrolldetail."""
    last = hub_sql_summary.last_payroll_day
    total = Decimal(0)
    with dataverse_sandbox.client() as client:
        for day in range(1, PAID_DAYS + 1):
            for code, cost in (("VALET", Decimal("812.40") + day), ("CASHIER", Decimal("301.15"))):
                key = (
                    f"bs_sitenumber='{site}',bs_jobcode='{code}',bs_date='{date(last.year, last.month, day)}'"
                )
                answer = client.patch(f"bs_payrolldetails({key})", json={"bs_actualcost": float(cost)})
                assert answer.status_code == 204, answer.text
                total += cost
    return total


def start_sync(client: httpx.Client, host: HubHost, stream: str) -> None:
    run = finished(client, client.post(f"/api/v1/syncs/{stream}"), host)
    assert run["status"] == "succeeded", run


def expected_open_month(
    budget: dict[str, Decimal], payroll: Decimal, management_agreement: bool
) -> dict[str, tuple[Decimal, str]]:
    """DOMAIN.md §5 again: payroll as given, everything else at budget or its share of payroll."""
    share = Decimal("0.0577") if management_agreement else Decimal("0.0445")
    pteb = budget["PTEB"] if budget["PAYROLL"] == 0 else budget["PTEB"] / budget["PAYROLL"] * payroll
    lines = {
        "EXTERNAL REVENUE": (budget["EXTERNAL REVENUE"], "budget"),
        "INTERNAL REVENUE": (budget["INTERNAL REVENUE"], "budget"),
        "CLAIMS": (Decimal(0), "as-of actual"),
        "PARKING RENTS": (budget["PARKING RENTS"], "greater of actual and forecast"),
        "OTHER EXPENSE": (budget["OTHER EXPENSE"], "greater of actual and forecast"),
        "PTEB": (pteb, "PTEB share of forecast payroll"),
        "INSURANCE": (share * payroll + budget["INSURANCE"], "insurance share of forecast payroll"),
    }
    cents = {name: (amount.quantize(Decimal("0.01")), rule) for name, (amount, rule) in lines.items()}
    return cents | {"PAYROLL": (payroll.quantize(Decimal("0.01")), "")}


@pytest.mark.slow(20)
def test_variance_equals_the_sandbox_sql_and_the_edw_view_shows_the_same_forecast(
    hub_host: HubHost,
    hub_sql_summary: SandboxSummary,
    edw: sqlite3.Connection,
    dataverse_sandbox: DataverseSandbox,
    site: str,
    budget_monthly_from_budget_final: Amounts,
    payroll_to_date: Decimal,
) -> None:
    last = hub_sql_summary.last_payroll_day
    year, open_period, future_period = last.year, f"{last:%Y-%m}", f"{last.year}-12"
    budget = budget_monthly_from_budget_final
    actual = source_amounts(edw, "ACCOUNT_SUMMARY", site, year)
    with hub_host.client() as client:
        start_sync(client, hub_host, "master_customer_sites")
        start_sync(client, hub_host, "budget_monthly")
        start_sync(client, hub_host, "gl_actuals")
        with dataverse_sandbox.client() as dataverse:
            master = dataverse.get(f"bs_mastercustomersites(bs_sitenumber='{site}')").json()
        agreement = "management agreement" in str(master.get("bs_contracttypestring") or "").lower()
        district = master["bs_district"]

        answer = client.get(f"/api/v1/sites/{site}/variance", params={"year": year})
        assert answer.status_code == 200, answer.text
        lines = {(line["period"], line["line"]): line for line in answer.json()["value"]}
        assert (
            client.get(
                f"/api/v1/sites/{site}/variance",
                params={"year": year},
                headers={"If-None-Match": answer.headers["ETag"]},
            ).status_code
            == 304
        )

        assert set(actual) == {f"{year}-{month:02d}" for month in range(1, last.month)}  # closed months
        for period, amounts in actual.items():
            for category, amount in amounts.items():
                line = lines[(period, category)]
                assert (line["actual"], line["forecast"], line["forecastRule"]) == (
                    float(amount),
                    float(amount),
                    "closed actual",
                ), (period, category)
                assert line["varianceAmount"] == float(amount - budget[period][category])
            flc = amounts["INTERNAL REVENUE"] - sum(amounts[c] for c in COSTS)
            assert lines[(period, "FLC")]["forecast"] == float(flc)

        month_days = 30 if last.month in (4, 6, 9, 11) else 31
        open_budget = budget[open_period]
        payroll = payroll_to_date + open_budget["PAYROLL"] * (month_days - PAID_DAYS) / month_days
        for category, (amount, rule) in expected_open_month(open_budget, payroll, agreement).items():
            line = lines[(open_period, category)]
            assert line["forecast"] == float(amount), category
            if rule:
                assert line["forecastRule"] == rule, category
        assert lines[(open_period, "PAYROLL")]["forecastRule"] == "actual then forecast"
        assert lines[(open_period, "PAYROLL")]["actual"] == float(payroll_to_date)
        assert lines[(open_period, "PAYROLL")]["actualDays"] == PAID_DAYS
        future = expected_open_month(budget[future_period], budget[future_period]["PAYROLL"], agreement)
        for category, (amount, _) in future.items():
            assert lines[(future_period, category)]["forecast"] == float(amount), category
            assert "actual" not in lines[(future_period, category)]
        budget_payroll = budget[future_period]["PAYROLL"]
        if budget_payroll:
            percent = (future["PAYROLL"][0] - budget_payroll) / budget_payroll * 100
            assert lines[(future_period, "PAYROLL")]["variancePercent"] == float(
                percent.quantize(Decimal("0.01"))
            )

        district_answer = client.get(f"/api/v1/districts/{quote(district)}/variance", params={"year": year})
        assert district_answer.status_code == 200, district_answer.text
        in_district = edw.execute("SELECT SITE FROM MASTER_NON_FINANCIAL WHERE DISTRICT = ?", (district,))
        district_lines = district_answer.json()["value"]
        assert {line["site"] for line in district_lines} <= {row[0].zfill(4) for row in in_district}
        assert [line for line in district_lines if line["site"] == site] == answer.json()["value"]

        first = client.post("/api/v1/forecast/snapshots", json={"year": year, "sites": [site]})
        second = client.post("/api/v1/forecast/snapshots", json={"year": year, "sites": [site]})
    assert (first.status_code, second.status_code) == (201, 201), (first.text, second.text)
    assert first.json()["lines"] == 12 * 8 and first.json()["snapshotId"] != second.json()["snapshotId"]

    stage = sqlite3.connect(f"file:{hub_sql_summary.folder / 'TP_STAGE.sqlite'}?mode=ro", uri=True)
    with closing(stage):
        shown = stage.execute(
            "SELECT PERIOD, IS_SUMMARY_CATEGORY, FD_BALANCE FROM vwHUB_FORECAST_CONSOLIDATED WHERE COST_CENTER = ?",
            (site,),
        ).fetchall()
        snapshots = [
            set(stage.execute(
                "SELECT PERIOD, IS_SUMMARY_CATEGORY, FD_BALANCE FROM HUB_FORECAST_SNAPSHOT_LINE WHERE SNAPSHOT_ID = ?",
                (answer.json()["snapshotId"],),
            ))
            for answer in (first, second)
        ]  # fmt: skip
    expected = {
        (period.replace("-", ""), category, line["forecast"])
        for (period, category), line in lines.items()
        if category in CATEGORIES
    }
    assert set(shown) == expected and len(shown) == len(expected)
    assert snapshots[0] == snapshots[1] == expected  # unchanged inputs, an equal snapshot
