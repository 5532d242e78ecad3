"""Change-tracked streams on the sandbox SQL Server: only the change is read, and what a change read misses
is read in full.

The sandbox tracks changes with SQL Server's visible behaviour (a version per
change, deletes reported, a minimum valid version cleanup moves); the hub
reads it through the same adapter as production. Expected values come from
plain SQL on the SQLite files or from what the first run landed in Dataverse.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from azure.storage.blob import BlobServiceClient
from sqlalchemy import event

from localdev.sandbox_sql import SandboxSummary
from localdev.sandbox_sql.change_tracking import clean_up
from shared.connectors.dataverse.sink import DataverseSink
from shared.sites import site_key
from shared.sql.engines import TOWNE_PARK_DATABASES
from tests.connectors.conftest import Hub, dataverse_rows, make_hub
from tests.fixtures.dataverse_sandbox import DataverseSandbox
from tests.fixtures.servicebus_emulator import ServiceBusEmulator

pytestmark = pytest.mark.services

USE = "bs_jobcodesbysites"
USE_KEY = ("bs_sitenumber", "bs_jobcode")
ACCESS = "bs_customersitesbyusers"
ACCESS_KEY = ("bs_email", "bs_sitenumber")
TRACKED = ("SHIFT_ENTITY", "WORKDAY_RLS_BISECURITY", "MASTER_NON_FINANCIAL")


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
    yield from make_hub(sql_folder, blob_service, servicebus_emulator, sink, today, change_tracked=TRACKED)


@pytest.fixture
def source(sql_folder: Path) -> Iterator[sqlite3.Connection]:
    """The sandbox's files, written as Legion's and Workday's loads write them."""
    connection = sqlite3.connect(":memory:", isolation_level=None)
    for database in TOWNE_PARK_DATABASES:
        connection.execute(f"ATTACH DATABASE ? AS {database}", (str(sql_folder / f"{database}.sqlite"),))
    with closing(connection):
        yield connection


class Queries:
    """Counts the SQL statements the hub sends to the server (one per cursor execute)."""

    def __init__(self, hub: Hub) -> None:
        self.count = 0
        event.listen(hub.engine, "before_cursor_execute", self._sent)

    def _sent(self, *_: Any) -> None:
        self.count += 1


def change_one_shift(source: sqlite3.Connection, today: date) -> tuple[str, str]:
    """Move one recent scheduled shift to a job code its site does not use yet: that site gains the code,
    with one employee (each employee works many shifts, so the code it had keeps its count)."""
    rowid, site = source.execute(
        "SELECT rowid, LOCATION_EXTERNAL_ID FROM TP_LEGION.SHIFT_ENTITY "
        "WHERE DELETED = 'No' AND START_DATE >= ? AND START_DATE < ? ORDER BY rowid LIMIT 1",
        ((today - timedelta(days=7)).isoformat(), (today - timedelta(days=1)).isoformat()),
    ).fetchone()
    (code,) = source.execute(
        "SELECT min(WORK_ROLE) FROM TP_LEGION.SHIFT_ENTITY WHERE WORK_ROLE NOT IN "
        "(SELECT WORK_ROLE FROM TP_LEGION.SHIFT_ENTITY WHERE LOCATION_EXTERNAL_ID = ?)",
        (site,),
    ).fetchone()
    source.execute("UPDATE TP_LEGION.SHIFT_ENTITY SET WORK_ROLE = ? WHERE rowid = ?", (code, rowid))
    return site_key(site), code.strip().upper()


def test_a_changed_shift_reaches_dataverse_after_a_run_that_reads_only_that_change(
    tracked_hub: Hub, source: sqlite3.Connection, dataverse_sandbox: DataverseSandbox, today: date
) -> None:
    first = tracked_hub.sync("job_codes_by_site")["job_codes_by_site"]
    assert first.change_tracking is not None
    assert first.change_tracking.fell_back_to_full_read
    assert first.change_tracking.reason == "no change version yet"
    before = dataverse_rows(dataverse_sandbox, USE, USE_KEY)
    site, code = change_one_shift(source, today)

    second = tracked_hub.sync("job_codes_by_site")["job_codes_by_site"]

    assert second.change_tracking is not None
    assert not second.change_tracking.fell_back_to_full_read
    assert second.change_tracking.changes_read == 1
    assert second.change_tracking.version_before == first.change_tracking.version_after
    site_codes = sum(1 for key in before if key[0] == site)
    assert second.extract.read == site_codes + 1 < first.extract.read  # the site re-counted, nothing else
    assert (second.extract.staged, second.load.upserted) == (1, 1)
    after = dataverse_rows(dataverse_sandbox, USE, USE_KEY)
    assert after.pop((site, code))["bs_activeemployeecount"] == 1
    assert after == before


def test_a_run_with_no_change_costs_one_query(tracked_hub: Hub) -> None:
    tracked_hub.sync("job_codes_by_site")
    queries = Queries(tracked_hub)

    quiet = tracked_hub.sync("job_codes_by_site")["job_codes_by_site"]

    assert queries.count == 1
    assert quiet.change_tracking is not None and quiet.change_tracking.changes_read == 0
    assert (quiet.extract.read, quiet.extract.staged, len(quiet.batches)) == (0, 0, 0)


def test_an_expired_version_falls_back_to_a_full_read_and_says_so(
    tracked_hub: Hub, source: sqlite3.Connection, dataverse_sandbox: DataverseSandbox, today: date
) -> None:
    first = tracked_hub.sync("job_codes_by_site")["job_codes_by_site"]
    assert first.change_tracking is not None and first.change_tracking.version_after is not None
    site, code = change_one_shift(source, today)
    clean_up(source, "TP_LEGION", below_version=first.change_tracking.version_after + 1)  # past the change

    fallen_back = tracked_hub.sync("job_codes_by_site")["job_codes_by_site"]

    read = fallen_back.change_tracking
    assert read is not None and read.fell_back_to_full_read
    assert (
        read.reason
        == f"version {first.change_tracking.version_after} has expired: the source cleaned up past it"
    )
    assert fallen_back.extract.read == first.extract.read + 1
    assert (fallen_back.extract.staged, fallen_back.extract.unchanged) == (1, first.extract.read)
    assert dataverse_rows(dataverse_sandbox, USE, USE_KEY)[(site, code)]["bs_activeemployeecount"] == 1
    again = tracked_hub.sync("job_codes_by_site")["job_codes_by_site"]
    assert again.change_tracking is not None and not again.change_tracking.fell_back_to_full_read


def test_a_deleted_access_row_is_staged_as_a_delete_and_removed_from_dataverse(
    tracked_hub: Hub, source: sqlite3.Connection, dataverse_sandbox: DataverseSandbox
) -> None:
    tracked_hub.sync("user_roles", "user_sites")
    granted = dataverse_rows(dataverse_sandbox, ACCESS, ACCESS_KEY)
    email, site = next(iter(sorted(granted)))
    rows = source.execute(
        "SELECT rowid, COST_CENTER, SITE FROM TP_EDW.WORKDAY_RLS_BISECURITY WHERE lower(trim(USER_ID)) = ?",
        (email,),
    ).fetchall()
    granting = [
        rowid for rowid, cost_center, row_site in rows if site in (site_key(cost_center), site_key(row_site))
    ]
    source.execute(
        f"DELETE FROM TP_EDW.WORKDAY_RLS_BISECURITY WHERE rowid IN ({','.join('?' * len(granting))})",
        granting,
    )

    runs = tracked_hub.sync("user_roles", "user_sites")

    sites = runs["user_sites"]
    assert sites.change_tracking is not None and sites.change_tracking.changes_read == len(granting)
    assert (sites.extract.deletes_staged, sites.load.deleted) == (1, 1)
    assert sites.extract.read == len(rows) - len(granting)  # the user's other rows only
    after = dataverse_rows(dataverse_sandbox, ACCESS, ACCESS_KEY)
    assert set(granted) - set(after) == {(email, site)}


def test_with_change_tracking_off_the_stream_reads_in_full_as_before(
    hub: Hub, source: sqlite3.Connection, today: date
) -> None:
    first = hub.sync("job_codes_by_site")["job_codes_by_site"]
    change_one_shift(source, today)

    second = hub.sync("job_codes_by_site")["job_codes_by_site"]

    assert first.change_tracking is None and second.change_tracking is None
    assert second.extract.read == first.extract.read + 1
    assert (second.extract.staged, second.extract.unchanged) == (1, first.extract.read)
