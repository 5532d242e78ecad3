"""Reading a dated source a month at a time, one day's rows merged at a time.

The actuals streams read views with a row per site, day and more (the payroll
view has ~150k rows a day, DOMAIN.md §1). Each month of a read window is one
SQL aggregate, so a year's backfill is twelve queries whose results stream
page by page; a month is small enough for the server to aggregate quickly and
large enough that a day-by-day read does not cost a query per day.

Sources store a few sites both padded and unpadded ('0170' and '170'), so the
rows SQL returns for one day are merged on the four-digit site here. Each
month's query orders its rows by day, so only one day's rows are ever held:
memory stays flat from a month to a year.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from shared.pipeline.stream import Row

# The rows of one month, [first, end), in day order; each row has a "date".
MonthRead = Callable[[date, date], Iterable[Sequence[Row]]]


def next_month(day: date) -> date:
    """The first day of the month after ``day``'s."""
    return (day.replace(day=1) + timedelta(days=32)).replace(day=1)


def month_chunks(first: date, end: date) -> Iterator[tuple[date, date]]:
    """[first, end) cut at each month's first day: ``(2026-01-15, 2026-03-10)`` gives three chunks."""
    start = first
    while start < end:
        stop = min(next_month(start), end)
        yield start, stop
        start = stop


def read_by_month(read_month: MonthRead, first: date, end: date) -> Iterator[Row]:
    """Every row of [first, end), month by month, in day order."""
    for start, stop in month_chunks(first, end):
        for page in read_month(start, stop):
            yield from page


def merged_by_day(
    rows: Iterable[Row],
    identity: tuple[str, ...],
    sums: tuple[str, ...],
    normal: Callable[[Row], dict[str, Any]],
) -> Iterator[dict[str, Any]]:
    """Rows equal on ``identity`` (after ``normal``, which pads the site) summed over ``sums``, a day at a time.

    Rows arrive in day order, so a day's merged rows are complete when the next
    day begins; they come out sorted by ``identity``.
    """
    day: Any = None
    merged: dict[tuple[Any, ...], dict[str, Any]] = {}
    for raw in rows:
        row = normal(raw)
        if row["date"] != day:
            yield from (merged[key] for key in sorted(merged))
            day, merged = row["date"], {}
        key = tuple(row[name] for name in identity)
        totals = merged.get(key)
        if totals is None:
            merged[key] = {**row, **{name: _decimal(row[name]) for name in sums}}
            continue
        for name in sums:
            totals[name] += _decimal(row[name])
    yield from (merged[key] for key in sorted(merged))


def _decimal(value: Any) -> Decimal:
    return Decimal(str(value or 0))


def pages(rows: Iterable[dict[str, Any]], page_rows: int) -> Iterator[list[dict[str, Any]]]:
    """``rows`` in pages of ``page_rows``, without holding more than one page."""
    page: list[dict[str, Any]] = []
    for row in rows:
        page.append(row)
        if len(page) >= page_rows:
            yield page
            page = []
    if page:
        yield page
