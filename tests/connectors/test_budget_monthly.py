"""``budget_monthly`` on the sandbox EDW: Dataverse holds BUDGET_FINAL summed per site, period and category.

The expected sums are this file's own SQL over the sandbox source (a GROUP BY
of BUDGET_FINAL joined to CHART_OF_ACCOUNT), padded and sign-turned here from
DOMAIN.md §4-§5, never the stream's code. No revision gate here: every change
loads on the next run (``tests/workflows`` covers a fixed year's approvals).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path

import pytest

from shared.sql.engines import TOWNE_PARK_DATABASES
from tests.connectors.conftest import Hub
from tests.fixtures.dataverse_sandbox import DataverseSandbox

STREAM = "budget_monthly"
Key = tuple[str, str, str]


@pytest.fixture
def source(sql_folder: Path) -> Iterator[sqlite3.Connection]:
    """The sandbox's budget of three sites (a load of all forty costs seconds), one of them also unpadded."""
    connection = sqlite3.connect(":memory:", isolation_level=None)
    for database in TOWNE_PARK_DATABASES:
        connection.execute(f"ATTACH DATABASE ? AS {database}", (str(sql_folder / f"{database}.sqlite"),))
    with closing(connection):
        sites = [
            site
            for (site,) in connection.execute(
                "SELECT DISTINCT COST_CENTER FROM TP_EDW.BUDGET_FINAL ORDER BY COST_CENTER LIMIT 3"
            )
        ]
        connection.execute(
            f"DELETE FROM TP_EDW.BUDGET_FINAL WHERE COST_CENTER NOT IN ({', '.join('?' * len(sites))})", sites
        )
        connection.execute(  # the first site's payroll also stored under its unpadded number
            "INSERT INTO TP_EDW.BUDGET_FINAL (COST_CENTER, PERIOD, MAIN_ACCOUNT, BALANCE) "
            "SELECT ltrim(COST_CENTER, '0'), PERIOD, MAIN_ACCOUNT, 10 FROM TP_EDW.BUDGET_FINAL "
            "WHERE COST_CENTER = ? AND MAIN_ACCOUNT = '6005'",
            (sites[0],),
        )
        yield connection


def expected_budget(source: sqlite3.Connection) -> dict[Key, float]:
    """Per site, 'yyyy-MM' period and summary category: the budget, internal revenue turned positive."""
    sums: dict[Key, Decimal] = {}
    for cost_center, period, category, balance in source.execute(
        "SELECT b.COST_CENTER, b.PERIOD, c.IS_SUMMARY_CATEGORY, SUM(b.BALANCE) "
        "FROM TP_EDW.BUDGET_FINAL b JOIN TP_EDW.CHART_OF_ACCOUNT c ON c.MAIN_ACCOUNT = b.MAIN_ACCOUNT "
        "WHERE c.IS_SUMMARY_CATEGORY IS NOT NULL GROUP BY b.COST_CENTER, b.PERIOD, c.IS_SUMMARY_CATEGORY"
    ):
        text = cost_center.strip()
        if not text.isdigit() or int(text) > 8999:  # P4.., A.., 9000s: not sites
            continue
        key = (text.zfill(4), f"{period[:4]}-{period[4:]}", category)
        sign = -1 if category == "INTERNAL REVENUE" else 1
        sums[key] = sums.get(key, Decimal(0)) + sign * Decimal(str(balance))
    return {key: float(value.quantize(Decimal("0.01"), ROUND_HALF_EVEN)) for key, value in sums.items()}


def budget_in_dataverse(sandbox: DataverseSandbox) -> dict[Key, float]:
    found: dict[Key, float] = {}
    with sandbox.client() as client:
        url = "bs_budgetmonthlies?$select=bs_sitenumber,bs_period,bs_summarycategory,bs_amount"
        while url:
            page = client.get(url, headers={"Prefer": "odata.maxpagesize=5000"}).json()
            for row in page["value"]:
                found[(row["bs_sitenumber"], row["bs_period"], row["bs_summarycategory"])] = row["bs_amount"]
            url = page.get("@odata.nextLink", "")
    return found


def test_dataverse_holds_each_sites_budget_per_category_and_a_quiet_run_writes_nothing(
    hub: Hub, source: sqlite3.Connection, dataverse_sandbox: DataverseSandbox
) -> None:
    source.execute(  # a district overhead cost center: budgeted, but not a site
        "INSERT INTO TP_EDW.BUDGET_FINAL (COST_CENTER, PERIOD, MAIN_ACCOUNT, BALANCE) "
        "SELECT 'P401', PERIOD, MAIN_ACCOUNT, BALANCE FROM TP_EDW.BUDGET_FINAL LIMIT 3"
    )
    first = hub.sync(STREAM)[STREAM]
    expected = expected_budget(source)

    assert budget_in_dataverse(dataverse_sandbox) == expected
    categories = {category for _, _, category in expected}
    assert {"INTERNAL REVENUE", "PAYROLL", "PTEB", "OTHER EXPENSE"} <= categories
    assert all(amount > 0 for (_, _, category), amount in expected.items() if category == "INTERNAL REVENUE")
    assert first.extract.staged == len(expected) and first.extract.skipped > 0

    writes = dataverse_sandbox.stats()["batches"]
    quiet = hub.sync(STREAM)[STREAM]
    assert (quiet.extract.staged, quiet.batches) == (0, [])
    assert dataverse_sandbox.stats()["batches"] == writes


def test_a_changed_row_writes_its_one_sum_and_next_years_budget_arrives_on_the_next_run(
    hub: Hub, source: sqlite3.Connection, dataverse_sandbox: DataverseSandbox
) -> None:
    hub.sync(STREAM)
    before = budget_in_dataverse(dataverse_sandbox)
    site, period, account = source.execute(
        "SELECT COST_CENTER, PERIOD, MAIN_ACCOUNT FROM TP_EDW.BUDGET_FINAL WHERE MAIN_ACCOUNT = '4020' "
        "ORDER BY COST_CENTER, PERIOD LIMIT 1"
    ).fetchone()
    source.execute(
        "UPDATE TP_EDW.BUDGET_FINAL SET BALANCE = BALANCE - 125.5 "
        "WHERE COST_CENTER = ? AND PERIOD = ? AND MAIN_ACCOUNT = ?",
        (site, period, account),
    )
    last_year = max(period[:4] for (period,) in source.execute("SELECT PERIOD FROM TP_EDW.BUDGET_FINAL"))
    season = f"{int(last_year) + 1}01"
    source.execute(  # budget season: next January's budget appears for one site
        "INSERT INTO TP_EDW.BUDGET_FINAL (COST_CENTER, PERIOD, MAIN_ACCOUNT, BALANCE) "
        "SELECT COST_CENTER, ?, MAIN_ACCOUNT, BALANCE FROM TP_EDW.BUDGET_FINAL "
        "WHERE COST_CENTER = ? AND PERIOD = ?",
        (season, site, f"{last_year}01"),
    )

    run = hub.sync(STREAM)[STREAM]
    after = budget_in_dataverse(dataverse_sandbox)

    assert after == expected_budget(source)
    changed = {key for key in before.keys() | after.keys() if before.get(key) != after.get(key)}
    padded = site.strip().zfill(4)
    new_season = {key for key in after if key[1] == f"{season[:4]}-01"}
    assert new_season and all(key[0] == padded for key in new_season)
    assert changed == {(padded, f"{period[:4]}-{period[4:]}", "INTERNAL REVENUE")} | new_season
    assert after[(padded, f"{period[:4]}-{period[4:]}", "INTERNAL REVENUE")] == pytest.approx(
        before[(padded, f"{period[:4]}-{period[4:]}", "INTERNAL REVENUE")] + 125.5
    )
    assert run.extract.staged == len(changed)
