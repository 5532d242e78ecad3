"""The actuals streams on the seeded sandbox (40 sites, 20 payroll days): payroll, statistics and rates.

Expected values are computed here with plain SQL on the SQLite files and
Towne Park's rules written out again (DELETED = 'No' and double overtime for
the schedule, DIFFERENTIAL and MEAL PREMIUM hours out of the payroll, query 3's
ratios), never with the streams' own statements.
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from collections.abc import Iterator
from contextlib import closing
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import pytest
from azure.storage.blob import BlobServiceClient

from localdev.sandbox_sql import SandboxSummary
from shared.connectors.dataverse.sink import DataverseSink
from shared.pipeline.requests import SyncRequest
from shared.pipeline.run_record import RunError, RunMode, RunStatus
from shared.pipeline.run_states import RunEvent
from shared.pipeline.stream import ReadWindow
from shared.sql.engines import TOWNE_PARK_DATABASES
from tests.connectors.conftest import Hub, dataverse_rows, make_hub
from tests.connectors.test_syncs_on_sandbox import wage_rate
from tests.fixtures.dataverse_sandbox import DataverseSandbox
from tests.fixtures.servicebus_emulator import ServiceBusEmulator

pytestmark = pytest.mark.services

PAYROLL = ("bs_payrolldetails", ("bs_sitenumber", "bs_jobcode", "bs_date"))
STATISTICS = ("bs_sitestatisticdetails", ("bs_sitenumber", "bs_date", "bs_type"))
RATES = ("bs_parkingratedetails", ("bs_sitenumber", "bs_year", "bs_month", "bs_ratecategory", "bs_type"))
REREAD_DAYS = 3
CENT, RATIO = Decimal("0.01"), Decimal("0.0001")
PAIRS = {  # DOMAIN.md §4 statistic accounts (revenue, count) and RSS revenue code groups
    "Valet Daily": ("9411", "9510", "VD"),
    "Valet Overnight": ("9412", "9520", "VO"),
    "Valet Monthly": ("9413", "9530", "VM"),
    "Self Daily": ("9414", "9550", "SD"),
    "Self Overnight": ("9415", "9560", "SO"),
    "Self Monthly": ("9416", "9570", "SM"),
}


@pytest.fixture
def today(built_sandbox: SandboxSummary) -> date:
    return built_sandbox.last_payroll_day + timedelta(days=1)


@pytest.fixture
def tracked_hub(
    sql_folder: Path,
    today: date,
    blob_service: BlobServiceClient,
    servicebus_emulator: ServiceBusEmulator,
    sink: DataverseSink,
) -> Iterator[Hub]:
    """A hub reading SHIFT_ENTITY's changes on incremental runs."""
    yield from make_hub(
        sql_folder, blob_service, servicebus_emulator, sink, today, change_tracked=("SHIFT_ENTITY",)
    )


@pytest.fixture
def small_batch_hub(
    sql_folder: Path,
    today: date,
    blob_service: BlobServiceClient,
    servicebus_emulator: ServiceBusEmulator,
    sink: DataverseSink,
) -> Iterator[Hub]:
    """A hub staging 300 rows a batch, so a backfill of two months publishes several."""
    yield from make_hub(sql_folder, blob_service, servicebus_emulator, sink, today, batch_rows=300)


@pytest.fixture
def source(sql_folder: Path) -> Iterator[sqlite3.Connection]:
    connection = sqlite3.connect(":memory:", isolation_level=None)
    for database in TOWNE_PARK_DATABASES:
        connection.execute(f"ATTACH DATABASE ? AS {database}", (str(sql_folder / f"{database}.sqlite"),))
    with closing(connection):
        yield connection


def pad(site: str) -> str:
    return site.strip().zfill(4)


def cents(value: Decimal) -> float:
    return float(value.quantize(CENT, rounding=ROUND_HALF_UP))


def scheduled(source: sqlite3.Connection, today: date) -> dict[tuple[str, str, str], dict[str, float]]:
    """The reference SQL's schedule from REREAD_DAYS before today on: non-deleted, double overtime in."""
    minutes: dict[tuple[str, str, str], int] = defaultdict(int)
    for site, day, code, total in source.execute(
        "SELECT LOCATION_EXTERNAL_ID, date(printf('%04d-01-01', YEAR), printf('+%d days', DAY_OF_THE_YEAR - 1)), "
        "WORK_ROLE, sum(CASE WHEN DELETED = 'No' THEN REGULAR_MINUTES + OVERTIME_MINUTES + DOUBLE_OVERTIME_MINUTES "
        "ELSE 0 END) FROM TP_LEGION.SHIFT_ENTITY WHERE trim(WORK_ROLE) <> '' GROUP BY 1, 2, 3"
    ):
        if day >= (today - timedelta(days=REREAD_DAYS)).isoformat():
            minutes[(pad(site), code, day)] += total
    rates: dict[tuple[str, str], float] = {}
    expected = {}
    for (site, code, day), total in minutes.items():
        if (site, code) not in rates:
            rates[(site, code)] = wage_rate(source, today, site, code)
        hours = Decimal(total) / 60
        expected[(site, code, day)] = {
            "bs_scheduledhours": cents(hours),
            "bs_scheduledcost": cents(hours * Decimal(str(rates[(site, code)]))),
        }
    return expected


def worked(source: sqlite3.Connection) -> dict[tuple[str, str, str], dict[str, float]]:
    """Query 6's sums by site, day and code, DIFFERENTIAL and MEAL PREMIUM hours out, their dollars in."""
    sums: dict[tuple[str, str, str], list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
    for site, day, code, pay_type, hours, dollars in source.execute(
        "SELECT WORK_LOCATION, DATE, TITLE, PAY_TYPE, TOTAL_HOURS, TOTAL_DOLLARS FROM TP_LEGION.vwPAYROLL_SUMMARY "
        "WHERE trim(WORK_LOCATION) <> '' AND trim(TITLE) <> ''"
    ):
        total = sums[(pad(site), code, day)]
        if pay_type not in ("DIFFERENTIAL", "MEAL PREMIUM"):
            total[0] += Decimal(str(hours))
        total[1] += Decimal(str(dollars))
    return {key: {"bs_actualhours": cents(h), "bs_actualcost": cents(d)} for key, (h, d) in sums.items()}


def payroll_columns(rows: dict[tuple[Any, ...], dict[str, Any]], *columns: str) -> dict[tuple[Any, ...], Any]:
    return {
        key: {column: row[column] for column in columns}
        for key, row in rows.items()
        if row.get(columns[0]) is not None
    }


@pytest.mark.slow(15)
def test_payroll_actuals_equal_the_sources_sums_and_only_changed_days_are_written_again(
    tracked_hub: Hub, source: sqlite3.Connection, today: date, dataverse_sandbox: DataverseSandbox
) -> None:
    deleted, double, differential = source.execute(
        "SELECT (SELECT count(*) FROM TP_LEGION.SHIFT_ENTITY WHERE DELETED = 'Yes'), "
        "(SELECT sum(DOUBLE_OVERTIME_MINUTES) FROM TP_LEGION.SHIFT_ENTITY WHERE DELETED = 'No'), "
        "(SELECT count(*) FROM TP_LEGION.vwPAYROLL_SUMMARY WHERE PAY_TYPE IN ('DIFFERENTIAL', 'MEAL PREMIUM'))"
    ).fetchone()
    assert deleted and double and differential  # every rule below changes the sums on this sandbox

    first = tracked_hub.sync("scheduled_hours", "worked_hours")
    landed = dataverse_rows(dataverse_sandbox, *PAYROLL)

    assert payroll_columns(landed, "bs_scheduledhours", "bs_scheduledcost") == scheduled(source, today)
    assert payroll_columns(landed, "bs_actualhours", "bs_actualcost") == worked(source)
    assert first["worked_hours"].watermark_after == (today - timedelta(days=1)).isoformat()

    writes = dataverse_sandbox.stats()["batches"]
    second = tracked_hub.sync("scheduled_hours", "worked_hours")
    for stream, run in second.items():
        assert (run.extract.staged, run.batches) == (0, []), stream
    assert second["scheduled_hours"].change_tracking is not None
    assert second["scheduled_hours"].change_tracking.changes_read == 0  # one query, nothing re-read
    assert second["worked_hours"].extract.unchanged > 0  # the re-read days, each found unchanged
    assert second["worked_hours"].window_start == (today - timedelta(days=1 + REREAD_DAYS)).isoformat()
    assert dataverse_sandbox.stats()["batches"] == writes

    # One shift deleted and one payroll row rewritten: only their two days are written again.
    before = dataverse_rows(dataverse_sandbox, *PAYROLL)
    shift_site, shift_code, shift_day, shift_minutes = source.execute(
        "SELECT LOCATION_EXTERNAL_ID, WORK_ROLE, date(printf('%04d-01-01', YEAR), printf('+%d days', DAY_OF_THE_YEAR - 1)), "
        "REGULAR_MINUTES + OVERTIME_MINUTES + DOUBLE_OVERTIME_MINUTES FROM TP_LEGION.SHIFT_ENTITY "
        "WHERE DELETED = 'No' AND YEAR = ? AND DAY_OF_THE_YEAR = ? ORDER BY rowid LIMIT 1",
        (today.year, (today + timedelta(days=2)).timetuple().tm_yday),
    ).fetchone()
    source.execute(
        "UPDATE TP_LEGION.SHIFT_ENTITY SET DELETED = 'Yes' WHERE rowid = (SELECT rowid FROM TP_LEGION.SHIFT_ENTITY "
        "WHERE DELETED = 'No' AND YEAR = ? AND DAY_OF_THE_YEAR = ? ORDER BY rowid LIMIT 1)",
        (today.year, (today + timedelta(days=2)).timetuple().tm_yday),
    )
    paid_site, paid_code, paid_day = source.execute(
        "SELECT WORK_LOCATION, TITLE, DATE FROM TP_LEGION.vwPAYROLL_SUMMARY WHERE PAY_TYPE = 'REGULAR' "
        "AND DATE = ? AND trim(WORK_LOCATION) <> '' AND trim(TITLE) <> '' AND ltrim(WORK_LOCATION, '0') <> ? "
        "ORDER BY rowid LIMIT 1",
        ((today - timedelta(days=2)).isoformat(), shift_site.lstrip("0")),
    ).fetchone()
    source.execute(
        "UPDATE TP_LEGION.vwPAYROLL_SUMMARY SET TOTAL_HOURS = TOTAL_HOURS + 1.5, TOTAL_DOLLARS = TOTAL_DOLLARS + 30 "
        "WHERE rowid = (SELECT rowid FROM TP_LEGION.vwPAYROLL_SUMMARY WHERE PAY_TYPE = 'REGULAR' AND DATE = ? "
        "AND trim(WORK_LOCATION) <> '' AND trim(TITLE) <> '' AND ltrim(WORK_LOCATION, '0') <> ? ORDER BY rowid LIMIT 1)",
        ((today - timedelta(days=2)).isoformat(), shift_site.lstrip("0")),
    )

    runs = tracked_hub.sync("scheduled_hours", "worked_hours")

    # A site's other codes that day are re-read too; the paid row is at another site, so its new wage rate
    # changes no cost the change read re-reads.
    shift_key, paid_key = (pad(shift_site), shift_code, shift_day), (pad(paid_site), paid_code, paid_day)
    assert runs["scheduled_hours"].change_tracking is not None
    assert runs["scheduled_hours"].change_tracking.changes_read == 1
    assert (runs["scheduled_hours"].extract.staged, runs["worked_hours"].extract.staged) == (1, 1)
    after = dataverse_rows(dataverse_sandbox, *PAYROLL)
    assert {key for key in after if after[key] != before[key]} == {shift_key, paid_key}
    now_scheduled = scheduled(source, today)[shift_key]["bs_scheduledhours"]
    assert after[shift_key]["bs_scheduledhours"] == now_scheduled
    assert now_scheduled == pytest.approx(
        before[shift_key]["bs_scheduledhours"] - shift_minutes / 60, abs=0.01
    )
    assert payroll_columns({paid_key: after[paid_key]}, "bs_actualhours", "bs_actualcost") == {
        paid_key: worked(source)[paid_key]
    }
    assert after[paid_key]["bs_actualhours"] == pytest.approx(before[paid_key]["bs_actualhours"] + 1.5)


def statistics(source: sqlite3.Connection) -> dict[tuple[str, str, int], dict[str, Any]]:
    """Query 8's pivot per site and day, with occupied rooms and the API's DriveIn and Capture."""
    days: dict[tuple[str, str], dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for site, day, category, vehicles, revenue in source.execute(
        "SELECT SITE, DATE, REVENUE_CATEGORY, sum(VEHICLECOUNT), sum(NETEXTERNALREVENUE) "
        "FROM TP_EDW.REVENUE_DAILY_DETAIL GROUP BY 1, 2, 3"
    ):
        values = days[(pad(site), day)]
        values["external"] += Decimal(str(revenue))
        if category in PAIRS:
            stem = category.lower().replace(" ", "")
            values[stem] += Decimal(vehicles)
            values[f"{stem}revenue"] += Decimal(str(revenue))
    for site, day, rooms in source.execute(
        "SELECT SITE, DATE, sum(VALUE) FROM TP_EDW.REVENUE_DATAMART_DAILY "
        "WHERE REVENUE_CATEGORY = 'Occupied Rooms' GROUP BY 1, 2"
    ):
        days[(pad(site), day)]["rooms"] += Decimal(str(rooms))
    expected = {}
    for (site, day), values in days.items():
        row: dict[str, Any] = {
            "bs_occupiedrooms": int(values["rooms"]),
            "bs_externalrevenue": cents(values["external"]),
        }
        for category in PAIRS:
            stem = category.lower().replace(" ", "")
            row[f"bs_{stem}"] = int(values[stem])
            row[f"bs_{stem}revenue"] = cents(values[f"{stem}revenue"])
        overnight = values["selfovernight"] + values["valetovernight"]
        row["bs_drivein"] = (
            None
            if not values["rooms"]
            else float((overnight / values["rooms"]).quantize(RATIO, ROUND_HALF_UP))
        )
        row["bs_capture"] = (
            None
            if not overnight
            else float((values["valetovernight"] / overnight).quantize(RATIO, ROUND_HALF_UP))
        )
        expected[(site, day, 126840002)] = row
    return expected


def rates(source: sqlite3.Connection, today: date) -> dict[tuple[str, int, int, str, int], float]:
    """Query 3 for last year and this one: budget account pairs (Budget 126840002) and RSS (Actual 126840001)."""
    sums: dict[tuple[str, int, int, str, int], list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
    accounts = {
        account: (category, part) for category, pair in PAIRS.items() for part, account in enumerate(pair[:2])
    }
    for site, period, account, balance in source.execute(
        "SELECT COST_CENTER, PERIOD, MAIN_ACCOUNT, sum(BALANCE) FROM TP_EDW.BUDGET_FINAL "
        "WHERE PERIOD BETWEEN ? AND ? GROUP BY 1, 2, 3",
        (f"{today.year - 1}01", f"{today.year}12"),
    ):
        if account in accounts and site.isdigit() and int(site) <= 8999:
            category, part = accounts[account]
            sums[(pad(site), int(period[:4]), int(period[4:]), category, 126840002)][part] += Decimal(
                str(balance)
            )
    groups = {pair[2]: category for category, pair in PAIRS.items()}
    for site, year, month, code, revenue, vehicles in source.execute(
        "SELECT SITE, strftime('%Y', DATE), strftime('%m', DATE), REVENUE_CODE, sum(NETEXTERNALREVENUE), "
        "sum(VEHICLECOUNT) FROM TP_EDW.vwREVENUE_DAILY_DETAIL_INVOICE GROUP BY 1, 2, 3, 4"
    ):
        if code[:2] in groups and int(year) >= today.year - 1:
            total = sums[(pad(site), int(year), int(month), groups[code[:2]], 126840001)]
            total[0] += Decimal(str(revenue))
            total[1] += Decimal(vehicles)
    return {key: cents(revenue / vehicles) for key, (revenue, vehicles) in sums.items() if vehicles}


@pytest.mark.slow(12)
def test_statistics_and_rates_actuals_equal_the_sources_and_a_changed_row_writes_only_its_row(
    hub: Hub, source: sqlite3.Connection, today: date, dataverse_sandbox: DataverseSandbox
) -> None:
    hub.sync("daily_statistics_actuals", "parking_rates")

    landed = dataverse_rows(dataverse_sandbox, *STATISTICS)
    expected = statistics(source)
    assert {key: {column: row[column] for column in expected[key]} for key, row in landed.items()} == expected
    rated = dataverse_rows(dataverse_sandbox, *RATES)
    assert {key: row["bs_rate"] for key, row in rated.items()} == rates(source, today)
    assert {key[4] for key in rated} == {126840001, 126840002}

    writes = dataverse_sandbox.stats()["batches"]
    second = hub.sync("daily_statistics_actuals", "parking_rates")
    assert all(run.extract.staged == 0 for run in second.values())
    assert dataverse_sandbox.stats()["batches"] == writes

    # One RSS day rewritten within the re-read days, one budget revenue account changed: one row each.
    site, day = source.execute(
        "SELECT SITE, DATE FROM TP_EDW.REVENUE_DAILY_DETAIL WHERE REVENUE_CATEGORY = 'Valet Overnight' "
        "AND DATE = ? ORDER BY SITE LIMIT 1",
        ((today - timedelta(days=3)).isoformat(),),
    ).fetchone()
    source.execute(
        "UPDATE TP_EDW.REVENUE_DAILY_DETAIL SET VEHICLECOUNT = VEHICLECOUNT + 7, NETEXTERNALREVENUE = "
        "NETEXTERNALREVENUE + 210 WHERE SITE = ? AND DATE = ? AND REVENUE_CATEGORY = 'Valet Overnight'",
        (site, day),
    )
    budget_site, period = source.execute(
        "SELECT COST_CENTER, PERIOD FROM TP_EDW.BUDGET_FINAL WHERE MAIN_ACCOUNT = '9412' AND PERIOD = ? "
        "ORDER BY COST_CENTER LIMIT 1",
        (f"{today.year}06",),
    ).fetchone()
    source.execute(
        "UPDATE TP_EDW.BUDGET_FINAL SET BALANCE = BALANCE + 500 "
        "WHERE COST_CENTER = ? AND PERIOD = ? AND MAIN_ACCOUNT = '9412'",
        (budget_site, period),
    )

    third = hub.sync("daily_statistics_actuals", "parking_rates")

    assert (third["daily_statistics_actuals"].extract.staged, third["parking_rates"].extract.staged) == (1, 1)
    changed_day = (pad(site), day, 126840002)
    after = dataverse_rows(dataverse_sandbox, *STATISTICS)
    assert {key for key in after if after[key] != landed[key]} == {changed_day}
    assert {column: after[changed_day][column] for column in expected[changed_day]} == statistics(source)[
        changed_day
    ]
    rate_key = (pad(budget_site), today.year, 6, "Valet Overnight", 126840002)
    rated_after = {key: row["bs_rate"] for key, row in dataverse_rows(dataverse_sandbox, *RATES).items()}
    assert {key for key in rated_after if rated_after[key] != rated[key]["bs_rate"]} == {rate_key}
    assert rated_after == rates(source, today)


def _retry_later(_: RunError) -> tuple[RunEvent, RunStatus]:
    return RunEvent.RETRY_LATER, RunStatus.RETRYING


def test_a_failed_backfill_resumes_after_the_batches_it_published(
    small_batch_hub: Hub, source: sqlite3.Connection, dataverse_sandbox: DataverseSandbox
) -> None:
    """October and November of RSS days by month; November holds more bad rows than the stream allows."""
    window = ReadWindow(start=date(2026, 10, 1), end=date(2026, 12, 1))
    source.executemany(
        "INSERT INTO TP_EDW.REVENUE_DAILY_DETAIL VALUES (?, '2026-11-20', 'Valet Daily', 1, 10)",
        [(f"X{number:03d}",) for number in range(150)],
    )
    engine = small_batch_hub.world.engine
    request = SyncRequest("daily_statistics_actuals", mode=RunMode.BACKFILL, window=window, trigger="test")
    failed = engine.run(request, failure_status=_retry_later)
    assert failed.status is RunStatus.RETRYING and failed.error is not None
    published = max(batch.cursor_max for batch in failed.batches)
    assert "2026-10-31" <= published <= "2026-11-20"
    source.execute("DELETE FROM TP_EDW.REVENUE_DAILY_DETAIL WHERE SITE LIKE 'X%'")

    resumed = engine.run(
        SyncRequest("daily_statistics_actuals", mode=RunMode.BACKFILL, window=window, run_id=failed.id),
        failure_status=_retry_later,
    )

    assert resumed.error is None and resumed.attempts == 2
    assert resumed.window_start == published
    expected = statistics(source)
    assert resumed.extract.read == sum(1 for _, day, _ in expected if day >= published)
    small_batch_hub.load(len(resumed.batches))
    landed = dataverse_rows(dataverse_sandbox, *STATISTICS)
    assert set(landed) == set(expected)
    assert (
        engine.states.read("daily_statistics_actuals")[0].watermark is None
    )  # a backfill leaves state alone
