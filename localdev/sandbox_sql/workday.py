"""Workday's nightly exports in the EDW: site access, account managers and salaries.

``WORKDAY_RLS_BISECURITY`` gives account managers their site in COST_CENTER
and district managers one row per site of their district in SITE, with their
district's overhead cost center (DOMAIN.md §2); people with other job profiles
are there too and get no access. ``WORKDAY_SITE_SALARIES`` carries the same
people's names and emails (and the site managers Legion has as salaried), so
the user sync can name everyone it grants access to. Workday stores some
sites unpadded, as Legion does.
"""

from __future__ import annotations

import random
import sqlite3
from collections.abc import Iterator, Mapping

from localdev.sandbox_sql.loading import Row, insert
from localdev.sandbox_sql.staffing import Employee
from localdev.sandbox_sql.world import People, Site, World
from shared.sql.tables import workday_rls_bisecurity, workday_site_managers, workday_site_salaries

_BASE_PAY = {
    "ACCTMGR": 72_000,
    "SRACCTMGR": 88_000,
    "DOO": 96_000,
    "ASOPSMGR": 70_000,
    "TRANSMGR": 68_000,
    "ASSOCM": 55_000,
}
_DISTRICT_MANAGER_PAY = 122_000


def write_workday(
    connection: sqlite3.Connection, rng: random.Random, world: World, staff: Mapping[Site, list[Employee]]
) -> None:
    insert(
        connection,
        workday_rls_bisecurity,
        ("USER_ID", "JOB_PROFILE", "COST_CENTER", "SITE"),
        _access(world),
    )
    insert(
        connection,
        workday_site_managers,
        ("SITE", "ACCT_MGR_EMPLOYEE_ID", "ACCT_MGR_FIRST_NAME", "ACCT_MGR_LAST_NAME"),
        _site_managers(rng, world),
    )
    insert(
        connection,
        workday_site_salaries,
        (
            "COST_CENTER",
            "TOTAL_BASEPAY_ANNUALIZED_AMOUNT",
            "ALLOCATION_PER_COST_CENTER_AMOUNT",
            "DISTRIBUTION_PERCENT",
            "FULL_LEGAL_NAME",
            "EMAIL_PRIMARY_WORK",
        ),
        _salaries(rng, world, staff),
    )


def _access(world: World) -> Iterator[Row]:
    for manager in world.account_managers:
        for site in manager.sites:
            yield (manager.person.email, manager.profile, site.workday_id, None)
    for district in world.districts:
        for site in world.sites:
            if site.district is district:
                yield (
                    district.manager.email,
                    district.manager_profile,
                    district.cost_center,
                    site.workday_id,
                )
    for person, profile, cost_center in world.corporate_users:
        yield (person.email, profile, cost_center, None)


def _site_managers(rng: random.Random, world: World) -> Iterator[Row]:
    """Most sites' account manager; a few sites have none on file."""
    for site in world.sites:
        manager = world.site_managers.get(site.number)
        if manager is not None and rng.random() < 0.93:
            person = manager.person
            yield (site.workday_id, person.employee_id, person.first_name, person.last_name)


def _salaries(rng: random.Random, world: World, staff: Mapping[Site, list[Employee]]) -> Iterator[Row]:
    for manager in world.account_managers:
        pay = round(_BASE_PAY[manager.profile] * manager.sites[0].wage_level * rng.uniform(0.9, 1.15), 2)
        yield from _allocated(manager.person.full_name, manager.person.email, pay, manager.sites)
    for district in world.districts:
        pay = round(_DISTRICT_MANAGER_PAY * rng.uniform(0.9, 1.15), 2)
        dm = district.manager
        yield (district.cost_center, pay, pay, 100.0, dm.full_name, dm.email)
    people = People(rng, 900_000)
    for site, roster in staff.items():
        for employee in roster:
            if employee.job.salaried:
                person = people.new()
                pay = round(employee.hourly_rate * 2080, 2)
                yield (site.workday_id, pay, pay, 100.0, person.full_name, person.email)


def _allocated(name: str, email: str, pay: float, sites: tuple[Site, ...]) -> Iterator[Row]:
    """One row per cost center the pay is split across, evenly."""
    share = 100.0 / len(sites)
    for site in sites:
        yield (site.workday_id, pay, round(pay * share / 100, 2), round(share, 4), name, email)
