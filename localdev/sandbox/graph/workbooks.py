"""Realistic RSS workbooks for the sandbox's Revenue lists, made with openpyxl.

A site's month as Towne Park's revenue submission carries it: an entry sheet
a manager fills in day by day, and the data-mart sheet the deposit check
reads (its layout is the hub's adapter's, ``shared/workflows/revenue_submissions/workbook.py``,
itself unconfirmed). Each day has occupied rooms, valet and self-park
vehicles and revenue, and the day's cash deposited to Towne Park's local bank
account; the deposits add up to exactly the month's ``cash_deposits``, so a
test chooses whether the check matches. ``unreadable`` gives the bytes of a
workbook cut short, as a broken upload arrives.
"""

from __future__ import annotations

import calendar
import io
import random
from datetime import date
from decimal import Decimal

from openpyxl import Workbook

from shared.workflows.revenue_submissions.workbook import COLUMNS, DATA_MART_SHEET

CASH_CATEGORY = "Cash Deposits to Local TP Bank Account"
_DAILY = (
    # (revenue code, category, value type, low, high)
    (None, "Occupied Rooms", "Other", 120, 380),
    ("VD1", "Valet Daily", "Vehicles", 20, 90),
    ("VD1", "Valet Daily", "Revenue", 800, 3600),
    ("VO1", "Valet Overnight", "Vehicles", 30, 120),
    ("VO1", "Valet Overnight", "Revenue", 1400, 6200),
    ("SD1", "Self Daily", "Vehicles", 10, 60),
    ("SD1", "Self Daily", "Revenue", 150, 900),
)


def rss_workbook(site: str, period: str, cash_deposits: Decimal, *, seed: int = 0) -> bytes:
    """The site's RSS for ``period`` (yyyyMM) whose cash deposits sum to ``cash_deposits``."""
    rng = random.Random(f"{site}/{period}/{seed}")
    year, month = int(period[:4]), int(period[4:])
    days = [date(year, month, day) for day in range(1, calendar.monthrange(year, month)[1] + 1)]
    workbook = Workbook()
    entry = workbook.active
    assert entry is not None  # a new workbook has its first sheet
    entry.title = "Daily Revenue"
    entry.append([f"Revenue Submission - site {site}", f"{calendar.month_name[month]} {year}"])
    entry.append(["Date", *[f"{category} {kind}" for _, category, kind, _, _ in _DAILY], CASH_CATEGORY])
    mart = workbook.create_sheet(DATA_MART_SHEET)
    mart.append(list(COLUMNS))
    cash = _split(cash_deposits, len(days), rng)
    for day, deposit in zip(days, cash, strict=True):
        values = [rng.randint(low, high) for _, _, _, low, high in _DAILY]
        entry.append([day, *values, float(deposit)])
        for (code, category, kind, _, _), value in zip(_DAILY, values, strict=True):
            mart.append([site, day, code, category, kind, value])
        mart.append([site, day, "CASH", CASH_CATEGORY, "Revenue", float(deposit)])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def unreadable_workbook(site: str, period: str) -> bytes:
    """A workbook's first bytes only: what an upload cut short leaves in the library."""
    whole = rss_workbook(site, period, Decimal("1000.00"))
    return whole[: len(whole) // 3]


def _split(total: Decimal, parts: int, rng: random.Random) -> list[Decimal]:
    """``total`` in ``parts`` uneven daily amounts to the cent that add up to it exactly."""
    cents = int((total * 100).to_integral_value())
    weights = [rng.uniform(0.5, 1.5) for _ in range(parts)]
    shares = [int(cents * weight / sum(weights)) for weight in weights]
    shares[-1] += cents - sum(shares)
    return [Decimal(share) / 100 for share in shares]
