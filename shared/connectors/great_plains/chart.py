"""What GP will take before anything is sent: its chart of accounts and its open fiscal periods, cached.

A posting to an account missing from the company's chart (``GL00100`` /
``GL00105``, active accounts only) or dated in a closed fiscal period
(``SY40100``) is refused by the hub with the reason, instead of failing inside
SmartConnect. Both are read once per company and kept for ``ttl_seconds``. A
refusal is never based on a reading older than ``recheck_seconds`` (a minute):
an account added in GP today, or a period reopened for an adjustment, is
re-read once and then accepted without waiting for the cache to expire.

Fiscal periods are the rows of GP's Fiscal Periods Setup window (``SERIES`` 0),
whose ``PSERIES_1..3`` flags close the financial, sales and purchasing series
[PROTOCOLS.md §3.1 G5]. A receivables or payables document also needs the
financial series open, as GP posts its distributions through to the general
ledger on the same date (inferred: the maps' posting settings are unconfirmed).
A date no period covers is refused, as GP refuses it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from enum import IntEnum
from typing import Generic, TypeVar

from sqlalchemy import Engine, text

from shared.connectors.great_plains.documents import DocumentRefusedError, GpDocument, GpMap
from shared.connectors.great_plains.ledger import GpLedger

Value = TypeVar("Value")


class Series(IntEnum):
    """GP's series as numbered in ``SY40100.PSERIES_n``."""

    FINANCIAL = 1
    SALES = 2
    PURCHASING = 3


# The series whose period must be open for each map's documents, and the row column with their date.
_MAP_SERIES: dict[GpMap, tuple[tuple[Series, ...], str]] = {
    GpMap.RECEIVABLES: ((Series.SALES, Series.FINANCIAL), "PostingDate"),
    GpMap.PAYABLES: ((Series.PURCHASING, Series.FINANCIAL), "TRXDATE"),
    GpMap.JOURNAL: ((Series.FINANCIAL,), "TRXDATE"),
}
_PERIODS = text(
    "SELECT YEAR1, PERNAME, PERIODDT, PERDENDT, PSERIES_1, PSERIES_2, PSERIES_3 FROM SY40100 "
    "WHERE SERIES = 0 AND PERIODID > 0"
)


class _PerCompany(Generic[Value]):
    """One reading per company, re-read when older than asked; one reader at a time per company."""

    def __init__(self, read: Callable[[str], Value], clock: Callable[[], float]) -> None:
        self._read = read
        self._clock = clock
        self._readings: dict[str, tuple[float, Value]] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def get(self, company: str, max_age_seconds: float) -> Value:
        with self._guard:
            lock = self._locks.setdefault(company, threading.Lock())
        with lock:
            reading = self._readings.get(company)
            if reading is None or self._clock() - reading[0] > max_age_seconds:
                reading = (self._clock(), self._read(company))
                self._readings[company] = reading
            return reading[1]


class ChartCache:
    """``known(company, account)``: is the account in the company's chart? The poster's ``known_account``."""

    def __init__(
        self,
        ledger: GpLedger,
        ttl_seconds: float = 900,
        clock: Callable[[], float] = time.monotonic,
        recheck_seconds: float = 60,
    ) -> None:
        self._charts = _PerCompany(ledger.chart, clock)
        self._ttl = ttl_seconds
        self._recheck = min(recheck_seconds, ttl_seconds)

    def known(self, company: str, account: str) -> bool:
        if account in self._charts.get(company, self._ttl):
            return True
        return account in self._charts.get(company, self._recheck)


@dataclass(frozen=True)
class FiscalPeriod:
    year: int
    name: str
    first_day: date
    last_day: date
    closed: frozenset[Series]

    def refusal(self, series: Series) -> str | None:
        if series in self.closed:
            return f"fiscal period {self.name} {self.year} is closed for the {series.name.lower()} series"
        return None


class FiscalPeriods:
    """Open and closed fiscal periods per company; ``check`` is the poster's period check."""

    def __init__(
        self,
        company_engine: Callable[[str], Engine],
        ttl_seconds: float = 900,
        clock: Callable[[], float] = time.monotonic,
        recheck_seconds: float = 60,
    ) -> None:
        self._company_engine = company_engine
        self._calendars = _PerCompany(self._read, clock)
        self._ttl = ttl_seconds
        self._recheck = min(recheck_seconds, ttl_seconds)

    def open_period(self, company: str, day: date, series: Series = Series.FINANCIAL) -> bool:
        """True when GP would post a ``series`` document dated ``day`` in ``company``."""
        return self.refusal(company, day, (series,)) is None

    def refusal(self, company: str, day: date, series: tuple[Series, ...]) -> str | None:
        """Why GP would not post on ``day`` for these series, or None when their period is open."""
        reason = _refusal(self._calendars.get(company, self._ttl), company, day, series)
        if reason is None:
            return None
        return _refusal(self._calendars.get(company, self._recheck), company, day, series)

    def check(self, document: GpDocument) -> None:
        """Raise ``DocumentRefusedError`` when the document's date is not in an open period of its series."""
        series, column = _MAP_SERIES[document.map_id]
        written = document.rows[0].get(column, "") if document.rows else ""
        try:
            day = datetime.strptime(written, "%m/%d/%Y").date()
        except ValueError:
            raise DocumentRefusedError(
                document.document_number, f"{column} {written!r} is not a date (MM/dd/yyyy)"
            ) from None
        reason = self.refusal(document.company, day, series)
        if reason is not None:
            raise DocumentRefusedError(document.document_number, reason)

    def _read(self, company: str) -> tuple[FiscalPeriod, ...]:
        with self._company_engine(company).connect() as connection:
            rows = connection.execute(_PERIODS).all()
        return tuple(
            FiscalPeriod(
                year=int(row[0]),
                name=str(row[1] or "").strip(),
                first_day=_day(row[2]),
                last_day=_day(row[3]),
                closed=frozenset(series for series in Series if row[3 + series]),
            )
            for row in rows
        )


def _refusal(
    calendar: tuple[FiscalPeriod, ...], company: str, day: date, series: tuple[Series, ...]
) -> str | None:
    period = next((p for p in calendar if p.first_day <= day <= p.last_day), None)
    if period is None:
        return f"no fiscal period in {company} covers {day.isoformat()}"
    return next((reason for s in series if (reason := period.refusal(s)) is not None), None)


def _day(value: object) -> date:
    """SY40100's dates: ``datetime`` from SQL Server, ISO text from the sandbox."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])
