"""Towne Park's role rules: which Workday job profiles see which sites (DOMAIN.md §2).

District managers (DISTMGR, AREAMGR, SRDISTMGR) are given a site per row in
the ``SITE`` column (their own ``COST_CENTER`` is the district's overhead);
account managers (DOO, ACCTMGR, ASSOCM, SRACCTMGR, ASOPSMGR, TRANSMGR) are
given the site in ``COST_CENTER``. Any other profile gives no site access. The
role names are the ones the billing API filters on (``RoleService.cs``).
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    ACCOUNT_MANAGER = "accountmanager"
    DISTRICT_MANAGER = "districtmanager"


DISTRICT_MANAGER_PROFILES = frozenset({"DISTMGR", "AREAMGR", "SRDISTMGR"})
ACCOUNT_MANAGER_PROFILES = frozenset({"DOO", "ACCTMGR", "ASSOCM", "SRACCTMGR", "ASOPSMGR", "TRANSMGR"})


def role_of(job_profile: str | None) -> Role | None:
    """The billing role a Workday job profile carries; None when it gives no site access."""
    profile = (job_profile or "").strip().upper()
    if profile in DISTRICT_MANAGER_PROFILES:
        return Role.DISTRICT_MANAGER
    if profile in ACCOUNT_MANAGER_PROFILES:
        return Role.ACCOUNT_MANAGER
    return None


def site_column(role: Role) -> str:
    """The ``WORKDAY_RLS_BISECURITY`` column holding the site a row of this role grants."""
    return "SITE" if role is Role.DISTRICT_MANAGER else "COST_CENTER"
