"""``make run``'s hand mappings: a few ``bs_forecastjobprofilemapping`` rows in the sandbox Dataverse.

Pilot sites are mapped by hand (DOMAIN.md §5), and the payroll budget reads
those rows before its rules. The sandbox world's budget has profiles no rule
maps ('NIGHTAUD': no Legion code is like it) and profiles split across two
codes ('SHUTL'); ``make run`` maps one of each at the first site that budgets
it, and 'TRANSPORT' to PTRANS at every site, so the coverage
(``GET /api/v1/forecast/payroll-coverage``) shows the hand-mapped rule next to
the others. The rows are upserted by their key, so every start writes the same.
"""

from __future__ import annotations

from sqlalchemy import Engine, select

from shared.connectors.dataverse.client import DataverseClient
from shared.connectors.dataverse.job_profile_mappings import ENTITY_SET
from shared.sites import site_key
from shared.sql.tables import budget_datatab_pr

PILOT_PROFILES = {"NIGHTAUD": "GSA", "SHUTL": "SHUTL2"}  # mapped at the first site budgeting them
EVERYWHERE = {"TRANSPORT": "PTRANS"}


def seed_job_profile_mappings(dataverse: DataverseClient, edw: Engine) -> list[tuple[str, str, str | None]]:
    """Upsert the hand mappings; each as (profile, job code, site or None for every site)."""
    pr = budget_datatab_pr.c
    seeded: list[tuple[str, str, str | None]] = []
    with edw.connect() as connection:
        for profile, code in PILOT_PROFILES.items():
            site = connection.execute(
                select(pr.COST_CENTER).where(pr.JOB_PROFILE == profile).order_by(pr.COST_CENTER).limit(1)
            ).scalar_one_or_none()
            if site is not None:
                seeded.append((profile, code, site_key(site)))
    seeded += [(profile, code, None) for profile, code in EVERYWHERE.items()]
    for profile, code, site in seeded:
        dataverse.upsert(ENTITY_SET, {"bs_jobprofile": profile}, {"bs_jobcode": code, "bs_sitenumber": site})
    return seeded
