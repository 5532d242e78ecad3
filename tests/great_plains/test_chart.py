"""The chart and fiscal-period checks read sandbox GP company databases (SQLite files, real SQL)."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine

from localdev.sandbox_gp.company import company_path, open_company, seed_accounts, set_period_closed
from shared.connectors.great_plains.chart import ChartCache, FiscalPeriods, Series
from shared.connectors.great_plains.documents import DocumentRefusedError, GpDocument, GpMap, JournalLine
from shared.connectors.great_plains.ledger import GpLedger

ACCOUNT = "02-03-2106-4791-0123"
APRIL = date(2025, 4, 30)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class CountingLedger(GpLedger):
    """The real ledger, counting how often the chart is read."""

    def __init__(self, company_engine: Callable[[str], Engine]) -> None:
        super().__init__(company_engine)
        self.reads = 0

    def chart(self, company: str) -> frozenset[str]:
        self.reads += 1
        return super().chart(company)


@pytest.fixture
def gp_folder(tmp_path: Path) -> Path:
    for company in ("TOWNE", "ENC"):
        open_company(tmp_path, company).close()
    seed_accounts(tmp_path, "TOWNE", [ACCOUNT, "02-00-0000-1200-0000"])
    return tmp_path


@pytest.fixture
def company_engine(gp_folder: Path) -> Iterator[Callable[[str], Engine]]:
    engines: dict[str, Engine] = {}

    def engine(company: str) -> Engine:
        return engines.setdefault(company, create_engine(f"sqlite:///{company_path(gp_folder, company)}"))

    yield engine
    for built in engines.values():
        built.dispose()


def run_sql(folder: Path, company: str, statement: str, *parameters: object) -> None:
    with sqlite3.connect(company_path(folder, company)) as connection:
        connection.execute(statement, parameters)


def test_accounts_in_the_active_chart_are_known_per_company(company_engine: Callable[[str], Engine]) -> None:
    chart = ChartCache(GpLedger(company_engine))

    assert chart.known("TOWNE", ACCOUNT)
    assert not chart.known("TOWNE", "02-03-2106-4791-9999")
    assert not chart.known("ENC", ACCOUNT)


def test_an_account_added_in_gp_today_is_accepted_after_a_minute_without_waiting_for_the_ttl(
    gp_folder: Path, company_engine: Callable[[str], Engine]
) -> None:
    clock = Clock()
    ledger = CountingLedger(company_engine)
    chart = ChartCache(ledger, ttl_seconds=900, clock=clock)
    new = "02-03-2106-4010-0123"
    assert chart.known("TOWNE", ACCOUNT) and ledger.reads == 1

    seed_accounts(gp_folder, "TOWNE", [new])
    clock.now += 30
    assert not chart.known("TOWNE", new)  # the reading is not a minute old: no re-read
    assert ledger.reads == 1
    clock.now += 31
    assert chart.known("TOWNE", new)
    assert ledger.reads == 2
    assert chart.known("TOWNE", ACCOUNT) and ledger.reads == 2


def test_a_deactivated_account_stays_known_until_the_ttl_then_is_refused(
    gp_folder: Path, company_engine: Callable[[str], Engine]
) -> None:
    clock = Clock()
    chart = ChartCache(GpLedger(company_engine), ttl_seconds=900, clock=clock)
    assert chart.known("TOWNE", ACCOUNT)

    run_sql(
        gp_folder,
        "TOWNE",
        "UPDATE GL00100 SET ACTIVE = 0 WHERE ACTINDX = (SELECT ACTINDX FROM GL00105 WHERE ACTNUMST = ?)",
        ACCOUNT,
    )
    clock.now += 899
    assert chart.known("TOWNE", ACCOUNT)
    clock.now += 2
    assert not chart.known("TOWNE", ACCOUNT)


def test_many_threads_on_a_cold_cache_read_the_chart_once(company_engine: Callable[[str], Engine]) -> None:
    ledger = CountingLedger(company_engine)
    chart = ChartCache(ledger)
    start = threading.Barrier(16)
    answers: list[bool] = []

    def ask() -> None:
        start.wait()
        answers.append(chart.known("TOWNE", ACCOUNT))

    threads = [threading.Thread(target=ask) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert answers == [True] * 16
    assert ledger.reads == 1


def test_periods_follow_the_fiscal_periods_setup_series_flags(
    gp_folder: Path, company_engine: Callable[[str], Engine]
) -> None:
    set_period_closed(gp_folder, "TOWNE", APRIL, Series.SALES)
    periods = FiscalPeriods(company_engine)

    assert not periods.open_period("TOWNE", APRIL, Series.SALES)
    assert periods.open_period("TOWNE", APRIL)  # the financial series is still open
    assert periods.open_period("TOWNE", date(2025, 5, 1), Series.SALES)
    assert periods.open_period("ENC", APRIL, Series.SALES)
    assert not periods.open_period("TOWNE", date(2040, 1, 1))  # no period set up


def test_a_reopened_period_is_accepted_after_a_minute_and_a_closed_one_after_the_ttl(
    gp_folder: Path, company_engine: Callable[[str], Engine]
) -> None:
    clock = Clock()
    periods = FiscalPeriods(company_engine, ttl_seconds=900, clock=clock)
    set_period_closed(gp_folder, "TOWNE", APRIL, Series.FINANCIAL)
    assert not periods.open_period("TOWNE", APRIL)

    set_period_closed(gp_folder, "TOWNE", APRIL, Series.FINANCIAL, closed=False)
    clock.now += 61
    assert periods.open_period("TOWNE", APRIL)

    set_period_closed(gp_folder, "TOWNE", APRIL, Series.FINANCIAL)
    clock.now += 600
    assert periods.open_period("TOWNE", APRIL)  # an open answer is trusted for the TTL
    clock.now += 301
    assert not periods.open_period("TOWNE", APRIL)


def document(map_id: GpMap, date_column: str, day: str) -> GpDocument:
    lines = (JournalLine(ACCOUNT, credit=Decimal(10)), JournalLine("02-00-0000-1200-0000", debit=Decimal(10)))
    return GpDocument(
        map_id, "TOWNE", "TOWNE", "202504PB250430", "0123202504010 0", "0123", lines, ({date_column: day},)
    )


def test_check_refuses_a_document_dated_in_a_closed_period_of_its_series_with_the_reason(
    gp_folder: Path, company_engine: Callable[[str], Engine]
) -> None:
    set_period_closed(gp_folder, "TOWNE", APRIL, Series.SALES)
    periods = FiscalPeriods(company_engine)

    with pytest.raises(DocumentRefusedError) as refused:
        periods.check(document(GpMap.RECEIVABLES, "PostingDate", "04/30/2025"))
    assert refused.value.reason == "fiscal period April 2025 is closed for the sales series"
    periods.check(document(GpMap.JOURNAL, "TRXDATE", "04/30/2025"))
    periods.check(document(GpMap.RECEIVABLES, "PostingDate", "05/01/2025"))


def test_check_needs_the_financial_series_open_for_receivables_and_a_readable_date(
    gp_folder: Path, company_engine: Callable[[str], Engine]
) -> None:
    set_period_closed(gp_folder, "TOWNE", APRIL, Series.FINANCIAL)
    periods = FiscalPeriods(company_engine)

    with pytest.raises(DocumentRefusedError, match="closed for the financial series"):
        periods.check(document(GpMap.PAYABLES, "TRXDATE", "04/30/2025"))
    with pytest.raises(DocumentRefusedError, match="is not a date"):
        periods.check(document(GpMap.PAYABLES, "TRXDATE", "2025-04-30"))
    with pytest.raises(DocumentRefusedError, match="no fiscal period in TOWNE covers 2041-01-31"):
        periods.check(document(GpMap.JOURNAL, "TRXDATE", "01/31/2041"))
