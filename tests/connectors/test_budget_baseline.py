"""The daily budget baseline on the app tests' small sandbox (12 sites), November 2026, into the sandbox Dataverse.

Expected values are computed here with plain SQL over the SQLite files
(``BUDGET_FINAL``'s statistic accounts, ``BUDGET_DATATAB_PR``, ``SHIFT_ENTITY``,
``WORKDAY_SITE_SALARIES``) and the rules written out again, never with the
streams' own queries.
"""

from __future__ import annotations

import shutil
import sqlite3
from collections import defaultdict
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import orjson
import pytest
from azure.data.tables import TableServiceClient
from azure.storage.blob import BlobServiceClient

from localdev.job_profile_mappings import seed_job_profile_mappings
from localdev.sandbox_sql import SandboxSummary, sandbox_url
from shared.api.payroll_coverage_desk import PayrollCoverageDesk
from shared.connectors.catalog import hub_streams
from shared.connectors.dataverse.client import DataverseClient, web_api_root
from shared.connectors.dataverse.job_profile_mappings import dataverse_hand_mappings
from shared.connectors.dataverse.sink import DataverseSink
from shared.http.hosts import HostRegistry
from shared.http.policy import HttpPolicy
from shared.pipeline.load import BatchLoader
from shared.pipeline.run_table import RunTable
from shared.sql.engines import TOWNE_PARK_DATABASES, sql_server_engine
from tests.connectors.conftest import Hub, dataverse_rows
from tests.fixtures.dataverse_sandbox import DataverseSandbox
from tests.fixtures.servicebus_emulator import ServiceBusEmulator
from tests.pipeline.world import build_world

pytestmark = pytest.mark.services

PERIOD = "202611"
DAYS = 30
BUDGET = 126840000
# DOMAIN.md §4 "Statistic accounts": each account's bs_sitestatisticdetail column.
ACCOUNT_COLUMNS = {
    "9411": "bs_valetdailyrevenue", "9510": "bs_valetdaily",
    "9412": "bs_valetovernightrevenue", "9520": "bs_valetovernight",
    "9413": "bs_valetmonthlyrevenue", "9530": "bs_valetmonthly",
    "9414": "bs_selfdailyrevenue", "9550": "bs_selfdaily",
    "9415": "bs_selfovernightrevenue", "9560": "bs_selfovernight",
    "9416": "bs_selfmonthlyrevenue", "9570": "bs_selfmonthly",
    "9440": "bs_occupiedrooms",
}  # fmt: skip
SALARIED = ("MGR", "ASTMGR")


@pytest.fixture
def sql_folder(hub_sql_summary: SandboxSummary, tmp_path: Path) -> Path:
    """This test's own copy of the small sandbox the hub host reads (a few thousand payroll rows to load)."""
    folder = tmp_path / "sql"
    folder.mkdir()
    for database in TOWNE_PARK_DATABASES:
        shutil.copyfile(hub_sql_summary.folder / f"{database}.sqlite", folder / f"{database}.sqlite")
    return folder


@pytest.fixture
def source(sql_folder: Path) -> Iterator[sqlite3.Connection]:
    connection = sqlite3.connect(":memory:", isolation_level=None)
    for database in TOWNE_PARK_DATABASES:
        connection.execute(f"ATTACH DATABASE ? AS {database}", (str(sql_folder / f"{database}.sqlite"),))
    with closing(connection):
        yield connection


@dataclass
class Baseline(Hub):
    dataverse: DataverseClient


@pytest.fixture
def baseline(
    sql_folder: Path,
    hub_sql_summary: SandboxSummary,
    blob_service: BlobServiceClient,
    table_service: TableServiceClient,
    servicebus_emulator: ServiceBusEmulator,
    sink: DataverseSink,
    dataverse_sandbox: DataverseSandbox,
) -> Iterator[Baseline]:
    """The two baseline streams over November (this month, one month), run records in Azurite's tables."""
    hosts = HostRegistry(HttpPolicy(budget_seconds=60), verify=dataverse_sandbox.ca_bundle)
    client = DataverseClient(hosts.client(web_api_root(dataverse_sandbox.url)), dataverse_sandbox.hub_token())
    engine = sql_server_engine(sandbox_url(sql_folder), None, 60)
    today = hub_sql_summary.last_payroll_day + timedelta(days=1)
    catalog = hub_streams(
        engine, today=lambda: today, hand_mappings=dataverse_hand_mappings(client), baseline_months=1
    )
    world = build_world(
        blob_service,
        servicebus_emulator.connection_string,
        catalog.get("daily_budget_statistics"),
        catalog.get("daily_payroll_budget"),
        tables=table_service,
    )
    world.loader = BatchLoader(
        world.engine.catalog, world.staging, world.state, sink, world.engine.now, runs=world.engine.runs
    )
    yield Baseline(world, engine, client)
    world.bus.close()
    engine.dispose()
    hosts.close()


def pad(site: str) -> str:
    return site.strip().zfill(4)


def hundredths(value: Any) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"), ROUND_HALF_UP)


def master_sites(source: sqlite3.Connection) -> set[str]:
    return {pad(site) for (site,) in source.execute("SELECT SITE FROM TP_EDW.MASTER_NON_FINANCIAL")}


def test_budget_statistics_days_add_up_to_the_month_and_only_a_changed_row_is_written_again(
    baseline: Hub, source: sqlite3.Connection, dataverse_sandbox: DataverseSandbox
) -> None:
    first = baseline.sync("daily_budget_statistics")["daily_budget_statistics"]
    landed = dataverse_rows(
        dataverse_sandbox, "bs_sitestatisticdetails", ("bs_sitenumber", "bs_date", "bs_type")
    )

    months: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    accounts = ", ".join(f"'{account}'" for account in ACCOUNT_COLUMNS)
    for cost_center, account, balance in source.execute(
        "SELECT COST_CENTER, MAIN_ACCOUNT, SUM(BALANCE) FROM TP_EDW.BUDGET_FINAL "
        f"WHERE PERIOD = ? AND MAIN_ACCOUNT IN ({accounts}) GROUP BY COST_CENTER, MAIN_ACCOUNT",
        (PERIOD,),
    ):
        months[pad(cost_center)][ACCOUNT_COLUMNS[account]] += Decimal(str(balance))
    assert months.keys() <= master_sites(source)
    assert {site for site, _, _ in landed} == set(months)
    assert len(landed) == DAYS * len(months) == first.load.upserted
    assert {kind for _, _, kind in landed} == {BUDGET}

    days: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for (site, _, _), row in landed.items():
        days[site].append(row)
    for site, budget in months.items():
        for column in ACCOUNT_COLUMNS.values():
            values = [hundredths(row[column]) for row in days[site]]
            assert sum(values) == hundredths(budget[column]), (site, column)
            assert max(values) - min(values) <= Decimal("0.01"), (site, column)
        overnight = budget["bs_selfovernight"] + budget["bs_valetovernight"]
        rooms = budget["bs_occupiedrooms"]
        drive_in = None if rooms == 0 else round(float(overnight / rooms), 4)
        capture = None if overnight == 0 else round(float(budget["bs_valetovernight"] / overnight), 4)
        assert {(row["bs_drivein"], row["bs_capture"]) for row in days[site]} == {(drive_in, capture)}
        revenue = sum(
            (hundredths(budget[c]) for c in ACCOUNT_COLUMNS.values() if c.endswith("revenue")), Decimal(0)
        )
        assert sum(hundredths(row["bs_externalrevenue"]) for row in days[site]) == revenue

    quiet = baseline.sync("daily_budget_statistics")["daily_budget_statistics"]
    assert (quiet.extract.staged, quiet.load.upserted) == (0, 0)

    site = sorted(site for site, budget in months.items() if budget["bs_occupiedrooms"] > 0)[0]
    updated = source.execute(
        "UPDATE TP_EDW.BUDGET_FINAL SET BALANCE = BALANCE + 300 "
        "WHERE COST_CENTER = ? AND PERIOD = ? AND MAIN_ACCOUNT = '9440'",
        (site, PERIOD),
    )
    assert updated.rowcount == 1
    changed = baseline.sync("daily_budget_statistics")["daily_budget_statistics"]
    assert (changed.extract.staged, changed.load.upserted) == (DAYS, DAYS)
    again = dataverse_rows(
        dataverse_sandbox, "bs_sitestatisticdetails", ("bs_sitenumber", "bs_date", "bs_type")
    )
    rooms_after = sum(hundredths(row["bs_occupiedrooms"]) for (s, _, _), row in again.items() if s == site)
    assert rooms_after == hundredths(months[site]["bs_occupiedrooms"] + 300)


def _profiles(source: sqlite3.Connection) -> dict[str, dict[str, Decimal]]:
    """Each site's November 'PR Hours' by profile (both spellings of a site merged)."""
    profiles: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for cost_center, profile, hours in source.execute(
        "SELECT COST_CENTER, JOB_PROFILE, SUM(BALANCE) FROM TP_EDW.BUDGET_DATATAB_PR "
        "WHERE YEAR = 2026 AND MONTH = 11 AND BALANCE_DESC = 'PR Hours' GROUP BY COST_CENTER, JOB_PROFILE"
    ):
        profiles[pad(cost_center)][profile.strip().upper()] += Decimal(str(hours))
    return profiles


def _active(source: sqlite3.Connection, first: str, last: str) -> dict[str, dict[str, int]]:
    """Employees scheduled on each code at each site in the 28 days before today (deleted shifts out)."""
    active: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for site, code, employee in source.execute(
        "SELECT LOCATION_EXTERNAL_ID, WORK_ROLE, EMPLOYEE_EXTERNAL_ID FROM TP_LEGION.SHIFT_ENTITY "
        "WHERE DELETED = 'No' AND date(printf('%04d-01-01', YEAR), printf('+%d days', DAY_OF_THE_YEAR - 1)) "
        "BETWEEN ? AND ?",
        (first, last),
    ):
        active[pad(site)][code.strip().upper()].add(employee)
    return {site: {code: len(people) for code, people in codes.items()} for site, codes in active.items()}


def test_payroll_budget_places_each_profile_by_the_rules_and_records_the_coverage(
    baseline: Baseline,
    source: sqlite3.Connection,
    hub_sql_summary: SandboxSummary,
    dataverse_sandbox: DataverseSandbox,
) -> None:
    profiles = _profiles(source)
    known = master_sites(source)
    seeded = seed_job_profile_mappings(baseline.dataverse, baseline.engine)  # make run's pilot mappings
    run = baseline.sync("daily_payroll_budget")["daily_payroll_budget"]
    assert run.report_path is not None
    detail = orjson.loads(baseline.world.staging.get(run.report_path))["payrollCoverage"]
    coverage = {row["site"]: row for row in detail}
    (month,) = (run.report or {})["payrollCoverage"]  # the run record's summary: the month's totals
    assert month["sites"] == len(coverage)
    assert hundredths(month["budgetedHours"]) == hundredths(
        sum(Decimal(str(c["budgetedHours"])) for c in detail)
    )
    unknown = set(profiles) - known
    assert (
        len(unknown) == 1 and run.extract.quarantined == 1
    )  # the one GSA budget of a site with no master row
    assert run.quarantine_path is not None
    reasons = orjson.loads(baseline.world.staging.get(run.quarantine_path).splitlines()[0])["reasons"]
    assert reasons == [
        "site_known: Value error, not a Towne Park site: the number is in no MASTER_NON_FINANCIAL row"
    ]

    today = hub_sql_summary.last_payroll_day + timedelta(days=1)
    active = _active(
        source, (today - timedelta(days=28)).isoformat(), (today - timedelta(days=1)).isoformat()
    )
    assert coverage.keys() == profiles.keys() - unknown
    for site, named in profiles.items():
        if site in unknown:
            continue
        budgeted = sum(hours for profile, hours in named.items() if hours > 0 and "DIFF" not in profile)
        differential = sum(hours for profile, hours in named.items() if hours > 0 and "DIFF" in profile)
        found = coverage[site]
        assert hundredths(found["budgetedHours"]) == hundredths(budgeted), site
        assert hundredths(found["shiftDifferentialHours"]) == hundredths(differential), site
        assert hundredths(sum(found["hoursByRule"].values())) == hundredths(budgeted)
        assert hundredths(found["mappedHours"]) == hundredths(budgeted) - hundredths(found["unmappedHours"])
        for profile in found["unmappedProfiles"]:
            assert profile not in active.get(site, {}), (site, profile)
        hand = {profile for profile, _, at in seeded if at in (site, None) and named.get(profile, 0) > 0}
        assert hundredths(found["hoursByRule"].get("handMapped", 0)) == hundredths(
            sum(named[p] for p in hand)
        )
        assert not hand & set(found["unmappedProfiles"])
    assert {site for _, _, site in seeded} > {None}  # a pilot site mapped by hand, and every site
    assert any(row["unmappedProfiles"] for row in coverage.values())
    assert any("closest" in row["hoursByRule"] for row in coverage.values())

    landed = dataverse_rows(
        dataverse_sandbox, "bs_payrolldetails", ("bs_sitenumber", "bs_jobcode", "bs_date")
    )
    minutes: dict[tuple[str, str], list[int]] = defaultdict(list)
    cost: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for (site, code, _), row in landed.items():
        minutes[(site, code)].append(round(row["bs_budgethours"] * 60))
        cost[(site, code)] += hundredths(row["bs_budgetcost"])
    assert {site for site, _ in minutes} == set(profiles) & known
    salaries = {
        pad(site): Decimal(str(total))
        for site, total in source.execute(
            "SELECT COST_CENTER, SUM(ALLOCATION_PER_COST_CENTER_AMOUNT) FROM TP_EDW.WORKDAY_SITE_SALARIES "
            "GROUP BY COST_CENTER"
        )
    }
    for site in set(profiles) & known:
        codes = {code: days for (at, code), days in minutes.items() if at == site}
        assert all(len(days) == DAYS and max(days) - min(days) <= 1 for days in codes.values())
        written = sum(sum(days) for days in codes.values())
        assert written == round(Decimal(str(coverage[site]["writtenHours"])) * 60)
        placed = {p for p, h in profiles[site].items() if h > 0 and "DIFF" not in p and p not in SALARIED}
        placed -= set(coverage[site]["unmappedProfiles"])
        expected = sum(int((profiles[site][p] * 60).quantize(Decimal(1), ROUND_HALF_UP)) for p in placed)
        assert sum(sum(days) for code, days in codes.items() if code not in SALARIED) == expected, site
        salaried = [code for code in codes if code in SALARIED]
        for code in salaried:
            assert set(codes[code]) == {8 * 60 * active[site][code]}, (site, code)
        if salaried:
            allocated = salaries.get(site, Decimal(0)) * DAYS / 365
            assert sum(cost[(site, code)] for code in salaried) == hundredths(allocated), site

    runs = baseline.world.engine.runs
    assert isinstance(runs, RunTable)
    desk = PayrollCoverageDesk(runs, baseline.world.staging)
    answer = desk.month("2026-11")
    assert answer is not None and answer.run_id == run.id
    assert {site.site for site in answer.sites} == set(profiles) & known
    assert hundredths(answer.budgeted_hours) == hundredths(
        sum(Decimal(str(c["budgetedHours"])) for c in coverage.values())
    )
    assert desk.month("2026-10") is None

    quiet = baseline.sync("daily_payroll_budget")["daily_payroll_budget"]
    assert (quiet.extract.staged, quiet.load.upserted) == (0, 0)
