"""Unit statistics for a period to GP ``GLIMP`` journals, by the rules of Towne Park's UnitAccountsBatchFlow.

The statistics come from ``spJoin_GP_STATS_with_GL_ACCOUNTS``; a row whose
account is not active in GP (or has no status at all) stops the whole period
with a report, because a partial statistics batch is worse than none. Otherwise
each row goes to the company its GL string names (as an invoice does), as
journals of at most 1000 lines per company, logged under site ``UNIT``.
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from shared.connectors.great_plains.documents import GpDocument, GpMap, JournalLine, check_balanced, quantity
from shared.workflows.gp_posting.billing import FIXED_INTER_ID, company_of_gl_string, gp_date

CHUNK_ROWS = 1000
STATISTICS_SITE = "UNIT"


@dataclass(frozen=True)
class UnitStatistic:
    """One row of ``spJoin_GP_STATS_with_GL_ACCOUNTS``."""

    site: str
    main_account: str
    gl_string: str
    value: Decimal
    status: str | None
    account_description: str = ""
    category: str = ""
    revenue_category: str = ""


class InactiveStatisticsError(Exception):
    """The period cannot be posted: these rows' accounts are not active."""

    def __init__(self, period: str, rows: tuple[UnitStatistic, ...]) -> None:
        super().__init__(f"{len(rows)} statistics rows for {period} have an account that is not active")
        self.period = period
        self.rows = rows

    def report(self) -> str:
        """The HTML table the flow emails today, one row per offending statistic."""
        cells = "".join(
            f"<tr><td>{_html(row.site)}</td><td>{_html(row.gl_string)}</td><td>{_html(row.main_account)}</td>"
            f"<td>{_html(row.account_description)}</td><td>{_html(row.status or '(missing)')}</td></tr>"
            for row in self.rows
        )
        head = (
            "<tr><th>Site</th><th>GL string</th><th>Main account</th><th>Description</th><th>Status</th></tr>"
        )
        return f"<table>{head}{cells}</table>"


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def statistics_journals(period: date, rows: Sequence[UnitStatistic]) -> list[GpDocument]:
    """The ``GLIMP`` journals for the month starting ``period``, or ``InactiveStatisticsError`` if any row blocks it.

    Each row goes to the company its GL string names, since a company's chart
    holds only its own accounts: one journal per company (per 1000 rows).
    """
    label = f"{period:%Y-%m}"
    inactive = tuple(row for row in rows if (row.status or "").strip().lower() != "active")
    if inactive:
        raise InactiveStatisticsError(label, inactive)
    by_company: dict[str, list[UnitStatistic]] = defaultdict(list)
    for row in rows:
        by_company[company_of_gl_string(row.gl_string)].append(row)
    return [
        journal
        for company, company_rows in by_company.items()
        for journal in _company_journals(period, company, company_rows)
    ]


def _company_journals(period: date, company: str, rows: Sequence[UnitStatistic]) -> list[GpDocument]:
    month_end = period.replace(day=calendar.monthrange(period.year, period.month)[1])
    batch = f"{period:%Y%m}POWERSTATS"
    reference = f"{period:%B %Y} Statistics"
    journals = []
    for start in range(0, len(rows), CHUNK_ROWS):
        chunk = rows[start : start + CHUNK_ROWS]
        part = start // CHUNK_ROWS + 1
        lines = tuple(
            JournalLine(row.gl_string, debit=row.value)
            if row.value > 0
            else JournalLine(row.gl_string, credit=-row.value)
            for row in chunk
        )
        table = tuple(
            {
                "COMPANY": company,
                "BATCHID": batch,
                "TRXDATE": gp_date(month_end),
                "REFRENCE": reference,
                "ACCOUNT": line.account,
                "DEBIT": quantity(line.debit),
                "CREDIT": quantity(line.credit),
            }
            for line in lines
        )
        journals.append(
            check_balanced(
                GpDocument(
                    GpMap.JOURNAL,
                    FIXED_INTER_ID,
                    company,
                    batch,
                    f"{reference} part {part}",
                    STATISTICS_SITE,
                    lines,
                    table,
                    statistical=True,
                )
            )
        )
    return journals
