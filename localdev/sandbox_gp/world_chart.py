"""The sandbox GP chart of accounts for the sandbox world: every account its statements and statistics post to.

The sites and their GL strings come from the sandbox SQL Server's
``MASTER_NON_FINANCIAL`` (the rows the master-sites sync puts into Dataverse),
so the chart matches the world ``make run`` serves. Per site, on its GL string
(DOMAIN.md §3 A): every internal revenue main account (4000-4999, which holds
4790 and 4791) as a posting account, and the statistic accounts (94xx/95xx)
as unit accounts. Per company code: receivables 1200, deferred revenue 2450,
payables 2000 and parking tax 2030. Each site's accounts go to the company its
GL string names, and to ``TEST``, the company the flows' override points test
runs at.
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from collections.abc import Iterable
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

from localdev.sandbox_gp.company import UNIT_ACCOUNT, seed_accounts
from localdev.sandbox_sql.accounts import ACCOUNTS, INTERNAL_REVENUE
from shared.workflows.gp_posting.billing import COMPANY_BY_GL_PREFIX, DEFAULT_COMPANY

TEST_COMPANY = "TEST"
COMPANIES = (DEFAULT_COMPANY, *COMPANY_BY_GL_PREFIX.values(), TEST_COMPANY)
REVENUE_ACCOUNTS = tuple(account.number for account in ACCOUNTS if account.category == INTERNAL_REVENUE)
STATISTIC_ACCOUNTS = tuple(account.number for account in ACCOUNTS if account.category is None)
# Receivables, deferred revenue (advance billing), payables, parking tax: "{cc}-00-0000-{n}-0000".
BALANCING_ACCOUNTS = ("1200", "2450", "2000", "2030")


@dataclass
class CompanyChart:
    posting: set[str] = field(default_factory=set)
    unit: set[str] = field(default_factory=set)


def world_sites(sql_folder: Path) -> list[tuple[str, str]]:
    """(site number, GL string) of every site in the sandbox SQL world that has a GL string."""
    with closing(sqlite3.connect(sql_folder / "TP_EDW.sqlite")) as connection:
        rows = connection.execute(
            "SELECT SITE, GL_STRING FROM MASTER_NON_FINANCIAL WHERE TRIM(COALESCE(GL_STRING, '')) <> ''"
        ).fetchall()
    return [(str(site).strip().zfill(4), str(gl_string).strip()) for site, gl_string in rows]


def world_chart(sites: Iterable[tuple[str, str]]) -> dict[str, CompanyChart]:
    """Each company's posting and unit accounts for these sites."""
    charts: dict[str, CompanyChart] = defaultdict(CompanyChart)
    for site, gl_string in sites:
        code = gl_string[:2]
        company = COMPANY_BY_GL_PREFIX.get(code, DEFAULT_COMPANY)
        posting = {f"{gl_string}{account}-{site}" for account in REVENUE_ACCOUNTS}
        posting |= {f"{code}-00-0000-{account}-0000" for account in BALANCING_ACCOUNTS}
        unit = {f"{gl_string}{account}-{site}" for account in STATISTIC_ACCOUNTS}
        for name in (company, TEST_COMPANY):
            charts[name].posting |= posting
            charts[name].unit |= unit
    return dict(charts)


def seed_world_chart(gp_folder: Path, sql_folder: Path) -> dict[str, int]:
    """Add the world's accounts to each company's chart (existing ones stay); returns accounts per company."""
    counts = {}
    for company, chart in world_chart(world_sites(sql_folder)).items():
        seed_accounts(gp_folder, company, sorted(chart.posting))
        seed_accounts(gp_folder, company, sorted(chart.unit), UNIT_ACCOUNT)
        counts[company] = len(chart.posting) + len(chart.unit)
    return counts
