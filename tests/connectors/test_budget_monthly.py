"""``budget_monthly`` on the sandbox EDW: Dataverse holds BUDGET_FINAL summed per site, period and category.

Expected sums come from ``budget_source`` (its own SQL over the source). No
revision gate here: every change loads on the next run
(``test_budget_revisions.py`` holds a fixed year to its approvals).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.connectors.budget_source import budget_in_dataverse, expected_budget, three_site_budget
from tests.connectors.conftest import Hub
from tests.fixtures.dataverse_sandbox import DataverseSandbox

STREAM = "budget_monthly"


@pytest.fixture
def source(sql_folder: Path) -> Iterator[sqlite3.Connection]:
    with three_site_budget(sql_folder) as connection:
        yield connection


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
