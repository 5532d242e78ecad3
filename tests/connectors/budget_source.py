"""The budget tests' source and expectations: a three-site BUDGET_FINAL, its sums by this module's own SQL.

The expected sums are a GROUP BY of BUDGET_FINAL joined to CHART_OF_ACCOUNT
over the sandbox source, padded and sign-turned here from DOMAIN.md §4-§5,
never the stream's code.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path

from shared.sql.engines import TOWNE_PARK_DATABASES
from tests.fixtures.dataverse_sandbox import DataverseSandbox

Key = tuple[str, str, str]  # site, 'yyyy-MM' period, summary category


@contextmanager
def three_site_budget(sql_folder: Path) -> Iterator[sqlite3.Connection]:
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
    """Per site, 'yyyy-MM' period and summary category: the budget, internal revenue turned positive.

    External revenue is account 9410, the total of the six category revenue accounts 9411-9416 (DOMAIN.md
    §4 statistic accounts): adding those too would count it twice.
    """
    sums: dict[Key, Decimal] = {}
    for cost_center, period, category, balance in source.execute(
        "SELECT b.COST_CENTER, b.PERIOD, c.IS_SUMMARY_CATEGORY, SUM(b.BALANCE) "
        "FROM TP_EDW.BUDGET_FINAL b JOIN TP_EDW.CHART_OF_ACCOUNT c ON c.MAIN_ACCOUNT = b.MAIN_ACCOUNT "
        "WHERE c.IS_SUMMARY_CATEGORY IS NOT NULL "
        "AND (c.IS_SUMMARY_CATEGORY <> 'EXTERNAL REVENUE' OR b.MAIN_ACCOUNT = '9410') "
        "GROUP BY b.COST_CENTER, b.PERIOD, c.IS_SUMMARY_CATEGORY"
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
