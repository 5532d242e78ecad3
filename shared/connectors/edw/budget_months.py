"""The months a daily budget stream writes, and the sites it knows: what both daily baselines read first.

The daily baseline is large (a site's payroll budget is a row per job code
and day), and Dataverse storage is why Towne Park kept the forecast's data in
the EDW (DOMAIN.md §4 "Decisions": payroll would exceed 3 GB a year). So a
run writes a rolling window of months, this one and the next ones
(:data:`BASELINE_MONTHS`), and a backfill any other window: ``start`` and
``end`` are days, and every month from ``start``'s to the one before ``end``
is read (``end`` exclusive, as every window is).

A row's site must be one of Towne Park's: the sites of ``MASTER_NON_FINANCIAL``,
padded. A cost center that is not a site number (P4.., 9000s) is skipped as the
budget syncs skip it; a site number no master row has is quarantined with that
reason (``shared.sites.KnownSite``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import Engine, select

from shared.pipeline.stream import ReadWindow
from shared.sites import Month, site_key
from shared.sql.engines import stream_rows
from shared.sql.tables import master_non_financial

BASELINE_MONTHS = 3


@dataclass(frozen=True)
class BudgetMonths:
    """This month and the ``count - 1`` after it, by ``today``; or a backfill's window."""

    today: Callable[[], date]
    count: int = BASELINE_MONTHS

    def of(self, window: ReadWindow) -> list[Month]:
        if window.start is None and window.end is None:
            first = Month.of(self.today())
            months = [first]
            while len(months) < self.count:
                months.append(months[-1].next())
            return months
        first = Month.of(_day(window.start) if window.start is not None else self.today())
        last = Month.of(_day(window.end) - timedelta(days=1)) if window.end is not None else first
        months = [first]
        while months[-1] < last:
            months.append(months[-1].next())
        return months


def _day(value: object) -> date:
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        return date.fromisoformat(value[:10])
    raise ValueError(f"a budget window is bounded by days (yyyy-MM-dd), not {value!r}")


def known_sites(edw: Engine) -> frozenset[str]:
    """Every site ``MASTER_NON_FINANCIAL`` holds, four digits (a few hundred rows: one query)."""
    statement = select(master_non_financial.c.SITE).distinct()
    return frozenset(site_key(row["SITE"]) for page in stream_rows(edw, statement) for row in page)
