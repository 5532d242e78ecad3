"""GL actuals on the seeded sandbox: closed periods land by category and by billable account; a re-close
writes exactly what it changed; a quiet run writes nothing.

Expected values are summed here with plain SQL over the SQLite files and Towne Park's rules written out
again (9410 is external revenue, internal revenue turned positive, expenses without ENTITY '06'), not
with the connector's queries. The test's copy of the sandbox keeps four sites and the fourteen newest
closed periods, so a run loads a few thousand records, not the whole sandbox.
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from collections.abc import Iterator
from contextlib import closing
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from shared.sql.engines import TOWNE_PARK_DATABASES
from tests.connectors.conftest import Hub, dataverse_rows
from tests.fixtures.dataverse_sandbox import DataverseSandbox

pytestmark = pytest.mark.services

STREAMS = ("gl_actuals", "gl_account_actuals")
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
KEPT_SITES = 4
KEPT_PERIODS = 14
Key = tuple[str, ...]


@pytest.fixture
def source(sql_folder: Path) -> Iterator[sqlite3.Connection]:
    """The test's copy of the EDW, cut to a few sites and periods, plus a non-site cost center."""
    connection = sqlite3.connect(":memory:", isolation_level=None)
    for database in TOWNE_PARK_DATABASES:
        connection.execute(f"ATTACH DATABASE ? AS {database}", (str(sql_folder / f"{database}.sqlite"),))
    periods = [
        period
        for (period,) in connection.execute(
            "SELECT DISTINCT PERIOD FROM TP_EDW.ACCOUNT_SUMMARY ORDER BY PERIOD DESC LIMIT ?", (KEPT_PERIODS,)
        )
    ]
    sites = [
        site
        for (site,) in connection.execute(
            "SELECT DISTINCT COST_CENTER FROM TP_EDW.ACCOUNT_SUMMARY WHERE COST_CENTER GLOB '[0-9]*' "
            "ORDER BY COST_CENTER LIMIT ?",
            (KEPT_SITES,),
        )
    ]
    connection.execute(
        f"DELETE FROM TP_EDW.ACCOUNT_SUMMARY WHERE PERIOD NOT IN ({','.join('?' * len(periods))}) "
        f"OR (COST_CENTER NOT IN ({','.join('?' * len(sites))}) AND COST_CENTER <> 'B100')",
        (*periods, *sites),
    )
    with closing(connection):
        yield connection


def pad(site: str) -> str:
    return site.strip().zfill(4)


def dashed(period: str) -> str:
    return f"{period[:4]}-{period[4:]}"


def cents(amount: Decimal) -> float:
    return float(amount.quantize(Decimal("0.01"))) + 0.0


def expected_categories(source: sqlite3.Connection) -> dict[Key, float]:
    totals: dict[Key, Decimal] = defaultdict(Decimal)
    rows = source.execute(
        "SELECT a.COST_CENTER, a.PERIOD, a.MAIN_ACCOUNT, c.IS_SUMMARY_CATEGORY, a.BALANCE "
        "FROM TP_EDW.ACCOUNT_SUMMARY a JOIN TP_EDW.CHART_OF_ACCOUNT c ON c.MAIN_ACCOUNT = a.MAIN_ACCOUNT"
    )
    for cost_center, period, account, category, balance in rows:
        if not cost_center.isdigit():
            continue
        for name in CATEGORIES:
            totals.setdefault((pad(cost_center), dashed(period), name), Decimal(0))
        if category is None or (category == "EXTERNAL REVENUE" and account != "9410"):
            continue
        sign = -1 if category == "INTERNAL REVENUE" else 1
        totals[(pad(cost_center), dashed(period), category)] += sign * Decimal(str(balance))
    return {key: cents(total) for key, total in totals.items()}


def expected_accounts(source: sqlite3.Connection) -> dict[Key, tuple[float, float]]:
    totals: dict[Key, list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
    rows = source.execute(
        "SELECT COST_CENTER, PERIOD, MAIN_ACCOUNT, ENTITY, BALANCE FROM TP_EDW.ACCOUNT_SUMMARY"
    )
    for cost_center, period, account, entity, balance in rows:
        payroll, expense = "6000" <= account <= "6199", "7000" <= account <= "7999"
        if not cost_center.isdigit() or not (payroll or expense or account in ("6200", "6399", "6500")):
            continue
        total = totals[(pad(cost_center), dashed(period), account)]
        total[0] += Decimal(str(balance))
        if not (expense and entity == "06"):
            total[1] += Decimal(str(balance))
    return {key: (cents(total), cents(billable)) for key, (total, billable) in totals.items()}


def landed(sandbox: DataverseSandbox) -> tuple[dict[Key, dict[str, Any]], dict[Key, dict[str, Any]]]:
    return (
        dataverse_rows(sandbox, "bs_glactuals", ("bs_sitenumber", "bs_period", "bs_summarycategory")),
        dataverse_rows(sandbox, "bs_glaccountactuals", ("bs_sitenumber", "bs_period", "bs_mainaccount")),
    )


@pytest.mark.slow(8)
def test_closed_periods_land_by_category_and_account_and_a_reclose_writes_only_its_changes(
    hub: Hub, source: sqlite3.Connection, dataverse_sandbox: DataverseSandbox
) -> None:
    first = hub.sync(*STREAMS)
    categories, accounts = landed(dataverse_sandbox)

    assert {key: row["bs_amount"] for key, row in categories.items()} == expected_categories(source)
    assert {key: (row["bs_amount"], row["bs_billableamount"]) for key, row in accounts.items()} == (
        expected_accounts(source)
    )
    assert len({site for site, _, _ in categories}) == KEPT_SITES  # B100 is not a site
    assert any(row["bs_billableamount"] != row["bs_amount"] for row in accounts.values())  # ENTITY '06'
    assert all(row["bs_summarycategory"] for key, row in accounts.items() if key[2] != "6010")
    assert first["gl_actuals"].watermark_after == int(
        max(period for _, period, _ in categories).replace("-", "")
    )

    # A quiet run writes nothing.
    batches = dataverse_sandbox.stats()["batches"]
    quiet = hub.sync(*STREAMS)
    assert [(run.extract.staged, run.batches) for run in quiet.values()] == [(0, []), (0, [])]
    assert dataverse_sandbox.stats()["batches"] == batches

    # Re-closes: a payroll row three months back changes, an old claim is removed (its category goes
    # to 0), and a correction thirteen months back is older than the year a run re-reads.
    periods = sorted({period for _, period, _ in categories})
    three_back, thirteen_back = periods[-4].replace("-", ""), periods[0].replace("-", "")
    site, _, _ = next(iter(categories))
    source.execute(
        "UPDATE TP_EDW.ACCOUNT_SUMMARY SET BALANCE = BALANCE + 125.5 "
        "WHERE COST_CENTER = ? AND PERIOD = ? AND MAIN_ACCOUNT = '6005'",
        (site, three_back),
    )
    claim = source.execute(
        "SELECT COST_CENTER, PERIOD FROM TP_EDW.ACCOUNT_SUMMARY WHERE MAIN_ACCOUNT = '7100' AND BALANCE <> 0 "
        "AND PERIOD >= ? ORDER BY PERIOD DESC LIMIT 1",
        (periods[1].replace("-", ""),),
    ).fetchone()
    assert claim is not None
    source.execute(
        "DELETE FROM TP_EDW.ACCOUNT_SUMMARY WHERE COST_CENTER = ? AND PERIOD = ? AND MAIN_ACCOUNT = '7100'",
        claim,
    )
    source.execute(
        "UPDATE TP_EDW.ACCOUNT_SUMMARY SET BALANCE = BALANCE + 9 "
        "WHERE COST_CENTER = ? AND PERIOD = ? AND MAIN_ACCOUNT = '6005'",
        (site, thirteen_back),
    )

    reclosed = hub.sync(*STREAMS)
    after_categories, after_accounts = landed(dataverse_sandbox)

    changed = {key for key in categories if categories[key] != after_categories.get(key)}
    assert changed == {
        (pad(site), dashed(three_back), "PAYROLL"),
        (pad(claim[0]), dashed(claim[1]), "CLAIMS"),
    }
    assert after_categories[(pad(claim[0]), dashed(claim[1]), "CLAIMS")]["bs_amount"] == 0.0
    assert reclosed["gl_actuals"].extract.staged == 2
    changed_accounts = {key for key in accounts if accounts[key] != after_accounts.get(key)}
    assert changed_accounts == {(pad(site), dashed(three_back), "6005")}
    assert reclosed["gl_account_actuals"].extract.staged == 1  # a removed account's record stays as it was
    stale = expected_categories(source)
    assert (
        stale[(pad(site), dashed(thirteen_back), "PAYROLL")]
        != after_categories[(pad(site), dashed(thirteen_back), "PAYROLL")]["bs_amount"]
    )  # beyond the look-back: a backfill's job
