"""Every sync on the seeded sandbox (40 sites, 20 payroll days): first run, quiet rerun, ten changed rows.

Expected rows are counted here with plain SQL on the SQLite files and Towne
Park's rules written out again, not with the connectors' own queries.
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

from localdev.sandbox_sql import SandboxSummary
from shared.sql.engines import TOWNE_PARK_DATABASES
from tests.connectors.conftest import EVERY_STREAM, Hub, dataverse_rows
from tests.fixtures.dataverse_sandbox import DataverseSandbox

pytestmark = pytest.mark.services

DM_PROFILES = {"DISTMGR", "AREAMGR", "SRDISTMGR"}
AM_PROFILES = {"DOO", "ACCTMGR", "ASSOCM", "SRACCTMGR", "ASOPSMGR", "TRANSMGR"}
TARGETS = {
    "bs_mastercustomersites": ("bs_sitenumber",),
    "bs_users": ("bs_email",),
    "bs_customersitesbyusers": ("bs_email", "bs_sitenumber"),
    "bs_jobcodes": ("bs_jobcode",),
    "bs_jobcodesbysites": ("bs_sitenumber", "bs_jobcode"),
    "bs_billableexpenses": ("bs_siteid", "bs_period"),
}


@pytest.fixture
def source(sql_folder: Path) -> Iterator[sqlite3.Connection]:
    connection = sqlite3.connect(":memory:", isolation_level=None)
    for database in TOWNE_PARK_DATABASES:
        connection.execute(f"ATTACH DATABASE ? AS {database}", (str(sql_folder / f"{database}.sqlite"),))
    with closing(connection):
        yield connection


def everything(sandbox: DataverseSandbox) -> dict[str, dict[tuple[Any, ...], dict[str, Any]]]:
    return {entity_set: dataverse_rows(sandbox, entity_set, key) for entity_set, key in TARGETS.items()}


def pad(site: str) -> str:
    return site.strip().zfill(4)


def wage_rate(source: sqlite3.Connection, today: date, site: str, code: str) -> float:
    """Story 2183's rate for one site and code, from the raw payroll rows (both spellings of the site)."""
    rows = source.execute(
        "SELECT PAY_TYPE, TOTAL_HOURS, TOTAL_DOLLARS FROM TP_LEGION.vwPAYROLL_SUMMARY "
        "WHERE WORK_LOCATION IN (?, ?) AND TITLE = ? AND DATE >= ? AND DATE < ?",
        (site, site.lstrip("0"), code, (today - timedelta(days=14)).isoformat(), today.isoformat()),
    ).fetchall()
    hours = sum(Decimal(str(h)) for kind, h, _ in rows if kind not in ("DIFFERENTIAL", "MEAL PREMIUM"))
    dollars = sum(Decimal(str(d)) for _, _, d in rows)
    return 0.0 if hours == 0 else float((dollars / hours).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def test_first_run_lands_every_sync_and_a_second_run_writes_nothing(
    hub: Hub, source: sqlite3.Connection, built_sandbox: SandboxSummary, dataverse_sandbox: DataverseSandbox
) -> None:
    today = built_sandbox.last_payroll_day + timedelta(days=1)
    first = hub.sync(*EVERY_STREAM)
    landed = everything(dataverse_sandbox)

    complete_sites = {
        pad(site)
        for (site,) in source.execute(
            "SELECT SITE FROM TP_EDW.MASTER_NON_FINANCIAL WHERE coalesce(SITE_NAME, '') <> '' "
            "AND coalesce(STREET_ADDRESS, '') <> '' AND coalesce(CITY, '') <> '' AND coalesce(STATE, '') <> ''"
        )
    }
    assert set(landed["bs_mastercustomersites"]) == {(site,) for site in complete_sites}
    assert len(complete_sites) < len(built_sandbox.sites)  # the sandbox has sites without an address

    access: set[tuple[str, str]] = set()
    users: dict[str, set[str]] = defaultdict(set)
    for email, profile, cost_center, site in source.execute("SELECT * FROM TP_EDW.WORKDAY_RLS_BISECURITY"):
        users[email.lower()].add(profile)
        if profile in DM_PROFILES:
            access.add((email.lower(), pad(site)))
        elif profile in AM_PROFILES:
            access.add((email.lower(), pad(cost_center)))
    assert set(landed["bs_customersitesbyusers"]) == access
    assert set(landed["bs_users"]) == {(email,) for email in users}
    for (email,), row in landed["bs_users"].items():
        expected = {"districtmanager"} if users[email] & DM_PROFILES else set()
        expected |= {"accountmanager"} if users[email] & AM_PROFILES else set()
        assert set(filter(None, row["bs_roles"].split(","))) == expected

    window = (today - timedelta(days=28), today - timedelta(days=1))
    scheduled = set(
        source.execute(
            "SELECT DISTINCT LOCATION_EXTERNAL_ID, WORK_ROLE FROM TP_LEGION.SHIFT_ENTITY WHERE DELETED = 'No' "
            "AND date(printf('%04d-01-01', YEAR), printf('+%d days', DAY_OF_THE_YEAR - 1)) BETWEEN ? AND ?",
            (window[0].isoformat(), window[1].isoformat()),
        )
    )
    paid = set(
        source.execute(
            "SELECT DISTINCT WORK_LOCATION, TITLE FROM TP_LEGION.vwPAYROLL_SUMMARY "
            "WHERE trim(WORK_LOCATION) <> '' AND trim(TITLE) <> '' AND DATE >= ? AND DATE < ?",
            ((today - timedelta(days=14)).isoformat(), today.isoformat()),
        )
    )
    assert set(landed["bs_jobcodes"]) == {(code,) for _, code in scheduled}
    assert set(landed["bs_jobcodesbysites"]) == {(pad(site), code) for site, code in scheduled | paid}
    unpadded = next(iter(built_sandbox.legion_unpadded_sites))
    for (site, code), row in landed["bs_jobcodesbysites"].items():
        if site == unpadded and "bs_averagehourlyrate" in row:
            assert row["bs_averagehourlyrate"] == wage_rate(source, today, site, code)

    periods = {
        (pad(cost_center), period)
        for cost_center, period in source.execute(
            "SELECT DISTINCT COST_CENTER, PERIOD FROM TP_EDW.BUDGET_FINAL"
        )
    }
    assert set(landed["bs_billableexpenses"]) == periods
    assert all(run.extract.quarantined == 0 and run.problems == [] for run in first.values())

    writes_before = dataverse_sandbox.stats()
    second = hub.sync(*EVERY_STREAM)

    for stream, run in second.items():
        assert (run.extract.staged, run.extract.deletes_staged, run.batches) == (0, 0, []), stream
        assert run.extract.unchanged == first[stream].extract.staged, stream
    assert dataverse_sandbox.stats()["batches"] == writes_before["batches"]
    assert everything(dataverse_sandbox) == landed


@pytest.mark.slow(6)
def test_ten_changed_source_rows_change_exactly_their_dataverse_rows(
    hub: Hub, source: sqlite3.Connection, built_sandbox: SandboxSummary, dataverse_sandbox: DataverseSandbox
) -> None:
    today = built_sandbox.last_payroll_day + timedelta(days=1)
    hub.sync(*EVERY_STREAM)
    before = everything(dataverse_sandbox)
    changed = _change_ten_rows(source, today)

    runs = hub.sync(*EVERY_STREAM)
    after = everything(dataverse_sandbox)

    differences = {
        entity_set: {
            key
            for key in before[entity_set].keys() | after[entity_set].keys()
            if before[entity_set].get(key) != after[entity_set].get(key)
        }
        for entity_set in TARGETS
    }
    assert differences == changed
    lost = changed["bs_customersitesbyusers"]
    assert all(key not in after["bs_customersitesbyusers"] for key in lost)
    assert runs["user_sites"].extract.deletes_staged == runs["user_sites"].load.deleted == 2
    staged = sum(run.extract.staged for run in runs.values())
    assert staged == sum(len(keys) for keys in changed.values()) - len(lost)


def _change_ten_rows(source: sqlite3.Connection, today: date) -> dict[str, set[tuple[Any, ...]]]:
    """Ten source changes; the Dataverse rows each one must change, by target."""
    execute = source.execute
    changed: dict[str, set[tuple[Any, ...]]] = {entity_set: set() for entity_set in TARGETS}
    masters = [site for (site,) in execute("SELECT SITE FROM TP_EDW.WORKDAY_SITE_MANAGERS ORDER BY SITE")]
    complete = {
        pad(site)
        for (site,) in execute(
            "SELECT SITE FROM TP_EDW.MASTER_NON_FINANCIAL WHERE STREET_ADDRESS IS NOT NULL AND CITY IS NOT NULL"
        )
    }
    managed = [site for site in masters if pad(site) in complete]

    # 1. one site's account manager changes.
    execute(
        "UPDATE TP_EDW.WORKDAY_SITE_MANAGERS SET ACCT_MGR_LAST_NAME = 'Okafor' WHERE SITE = ?", (managed[0],)
    )
    changed["bs_mastercustomersites"].add((pad(managed[0]),))
    # 2. another site's district manager.
    execute("UPDATE TP_EDW.MASTER_NON_FINANCIAL SET DM = 'Rosa Quint' WHERE SITE = ?", (pad(managed[1]),))
    changed["bs_mastercustomersites"].add((pad(managed[1]),))
    # 3. a third site's billing email in GP.
    execute(
        "UPDATE TP_EDW.vwGP_CUSTOMER_MSTR SET EMAIL_RECIPIENT = 'ar@new.example' WHERE CUSTNMBR = ?",
        (pad(managed[2]),),
    )
    changed["bs_mastercustomersites"].add((pad(managed[2]),))

    # 4. an account manager with one site becomes an RVP: the role and the access row go.
    email, cost_center = execute(
        "SELECT USER_ID, COST_CENTER FROM TP_EDW.WORKDAY_RLS_BISECURITY WHERE JOB_PROFILE = 'ACCTMGR' "
        "GROUP BY USER_ID HAVING count(*) = 1 ORDER BY USER_ID"
    ).fetchone()
    execute("UPDATE TP_EDW.WORKDAY_RLS_BISECURITY SET JOB_PROFILE = 'RVP' WHERE USER_ID = ?", (email,))
    changed["bs_users"].add((email.lower(),))
    changed["bs_customersitesbyusers"].add((email.lower(), pad(cost_center)))
    # 5. a district manager loses one site of the district.
    dm_email, dm_site = execute(
        "SELECT USER_ID, SITE FROM TP_EDW.WORKDAY_RLS_BISECURITY WHERE JOB_PROFILE = 'DISTMGR' ORDER BY USER_ID, SITE"
    ).fetchone()
    execute("DELETE FROM TP_EDW.WORKDAY_RLS_BISECURITY WHERE USER_ID = ? AND SITE = ?", (dm_email, dm_site))
    changed["bs_customersitesbyusers"].add((dm_email.lower(), pad(dm_site)))

    # 6. and 7. a payroll budget cell and an internal revenue cell.
    cells = execute(
        "SELECT COST_CENTER, PERIOD, MAIN_ACCOUNT FROM TP_EDW.BUDGET_FINAL WHERE MAIN_ACCOUNT IN ('6005', '4020') "
        "ORDER BY MAIN_ACCOUNT DESC, COST_CENTER, PERIOD"
    ).fetchall()
    payroll_cell = cells[0]
    revenue_cell = next(cell for cell in cells if cell[2] == "4020" and cell[:2] != payroll_cell[:2])
    for cell, change in ((payroll_cell, 1000), (revenue_cell, -750)):
        execute(
            "UPDATE TP_EDW.BUDGET_FINAL SET BALANCE = BALANCE + ? WHERE COST_CENTER = ? AND PERIOD = ? AND MAIN_ACCOUNT = ?",
            (change, *cell),
        )
        changed["bs_billableexpenses"].add((pad(cell[0]), cell[1]))

    # 8. a payroll row deleted, 9. one paid again with more dollars: two wage rates change.
    window = ((today - timedelta(days=14)).isoformat(), today.isoformat())
    regular = execute(
        "SELECT rowid, WORK_LOCATION, TITLE FROM TP_LEGION.vwPAYROLL_SUMMARY WHERE PAY_TYPE = 'OVERTIME' "
        "AND DATE >= ? AND DATE < ? AND trim(WORK_LOCATION) <> '' AND trim(TITLE) <> '' ORDER BY rowid",
        window,
    ).fetchall()
    rates = {}
    for rowid, site, code in regular:
        key = (pad(site), code)
        if key in rates:
            continue
        rates[key] = wage_rate(source, today, pad(site), code)
        if len(rates) == 1:
            execute("DELETE FROM TP_LEGION.vwPAYROLL_SUMMARY WHERE rowid = ?", (rowid,))
        else:
            execute(
                "UPDATE TP_LEGION.vwPAYROLL_SUMMARY SET TOTAL_DOLLARS = TOTAL_DOLLARS + 400 WHERE rowid = ?",
                (rowid,),
            )
        if wage_rate(source, today, pad(site), code) != rates[key]:
            changed["bs_jobcodesbysites"].add(key)
        if len(changed["bs_jobcodesbysites"]) == 2:
            break
    assert len(changed["bs_jobcodesbysites"]) == 2

    # 10. shifts deleted: one employee taken off the schedule of one code at one site.
    in_window = (
        "DELETED = 'No' AND date(printf('%04d-01-01', YEAR), printf('+%d days', DAY_OF_THE_YEAR - 1)) "
        "BETWEEN ? AND ?"
    )
    days = ((today - timedelta(days=28)).isoformat(), (today - timedelta(days=1)).isoformat())
    shifts = execute(
        "SELECT LOCATION_EXTERNAL_ID, WORK_ROLE, EMPLOYEE_EXTERNAL_ID, count(*) FROM TP_LEGION.SHIFT_ENTITY "
        f"WHERE {in_window} GROUP BY 1, 2, 3 ORDER BY 4, 1, 2, 3",
        days,
    ).fetchall()
    employees: dict[tuple[str, str], int] = defaultdict(int)
    for site, code, *_ in shifts:
        employees[(site, code)] += 1
    site, code, employee, _ = next(
        shift
        for shift in shifts
        if employees[shift[:2]] > 1 and (pad(shift[0]), shift[1]) not in changed["bs_jobcodesbysites"]
    )
    execute(
        "UPDATE TP_LEGION.SHIFT_ENTITY SET DELETED = 'Yes' "
        f"WHERE LOCATION_EXTERNAL_ID = ? AND WORK_ROLE = ? AND EMPLOYEE_EXTERNAL_ID = ? AND {in_window}",
        (site, code, employee, *days),
    )
    changed["bs_jobcodesbysites"].add((pad(site), code))
    return {entity_set: keys for entity_set, keys in changed.items()}
