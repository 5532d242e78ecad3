"""User roles and sites: ``WORKDAY_RLS_BISECURITY`` → ``bs_user`` and ``bs_customersitesbyuser``.

Replaces the "UserRolesAndSites" dataflow (DOMAIN.md §2). Two streams:

- ``user_roles``: one ``bs_user`` per Workday user, with the roles their job
  profiles carry (none for profiles without site access, so a role lost in
  Workday is lost in Dataverse) and their name from ``WORKDAY_SITE_SALARIES``.
- ``user_sites``: one ``bs_customersitesbyuser`` per user and site, by the
  rules of ``roles.py``; it reads the whole table every run and deletes the
  access rows that are gone from Workday, so a user who lost a site loses it.

Emails are the users' sign-in names and are compared case-insensitively, so
they are written in lower case. Users and names are grouped here in Python:
the tables hold a few thousand rows.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, StringConstraints, model_validator
from sqlalchemy import Engine, select

from shared.connectors.dataverse.sink import DataverseTarget
from shared.connectors.workday.roles import Role, role_of, site_column
from shared.pipeline.stream import ReadWindow, Record, Row, Stream
from shared.sites import site_number
from shared.sql.engines import stream_rows
from shared.sql.tables import workday_rls_bisecurity, workday_site_salaries

USERS_STREAM = "user_roles"
SITES_STREAM = "user_sites"
USERS_TARGET = DataverseTarget(entity_set="bs_users", alternate_key=("bs_email",))
SITES_TARGET = DataverseTarget(
    entity_set="bs_customersitesbyusers", alternate_key=("bs_email", "bs_sitenumber")
)

Email = Annotated[
    str, StringConstraints(strip_whitespace=True, to_lower=True, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
]


class WorkdayUser(BaseModel):
    """A Workday user: their sign-in email, every job profile they hold, and their legal name if known."""

    email: Email
    job_profiles: list[str]
    full_name: str | None = None


class SiteAccessRow(BaseModel):
    """One ``WORKDAY_RLS_BISECURITY`` row; a row of a manager profile must name a site in its role's column."""

    model_config = ConfigDict(str_strip_whitespace=True)

    user_id: Email
    job_profile: str | None
    cost_center: str | None
    site: str | None

    @model_validator(mode="after")
    def _names_a_site(self) -> SiteAccessRow:
        role = role_of(self.job_profile)
        if role is not None and self.granted_site is None:
            raise ValueError(
                f"a {role.value} profile ({self.job_profile}) needs a site number (0000-8999) "
                f"in {site_column(role)}"
            )
        return self

    @property
    def granted_site(self) -> str | None:
        """The four-digit site this row grants; None when its profile grants none."""
        role = role_of(self.job_profile)
        if role is None:
            return None
        return site_number(self.site if role is Role.DISTRICT_MANAGER else self.cost_center)


def _access_rows(edw: Engine, page_rows: int) -> Iterator[Sequence[Row]]:
    table = workday_rls_bisecurity
    statement = (
        select(
            table.c.USER_ID.label("user_id"),
            table.c.JOB_PROFILE.label("job_profile"),
            table.c.COST_CENTER.label("cost_center"),
            table.c.SITE.label("site"),
        )
        .distinct()
        .order_by("user_id", "cost_center", "site")  # labels: SQL Server orders DISTINCT by selected items
    )
    return stream_rows(edw, statement, page_rows)


def read_users(edw: Engine, page_rows: int) -> Iterator[Sequence[Row]]:
    """Each Workday user once, with every job profile the access table holds for them."""
    names: dict[str, str] = {}
    salaries = select(workday_site_salaries.c.EMAIL_PRIMARY_WORK, workday_site_salaries.c.FULL_LEGAL_NAME)
    for page in stream_rows(edw, salaries, page_rows):
        for row in page:
            email, name = (row["EMAIL_PRIMARY_WORK"] or "").strip().lower(), row["FULL_LEGAL_NAME"]
            if email and name and name.strip():
                names.setdefault(email, name.strip())
    users: dict[str, dict[str, Any]] = {}
    for access in _access_rows(edw, page_rows):
        for granted in access:
            email = (granted["user_id"] or "").strip().lower()
            user = users.setdefault(
                email, {"email": email, "job_profiles": [], "full_name": names.get(email)}
            )
            profile = (granted["job_profile"] or "").strip().upper()
            if profile and profile not in user["job_profiles"]:
                user["job_profiles"].append(profile)
    ordered = [users[email] for email in sorted(users)]
    for start in range(0, len(ordered), page_rows):
        yield ordered[start : start + page_rows]


def to_user(user: WorkdayUser) -> Record:
    """The ``bs_user`` record: roles as a comma-separated list ('' when the user has none)."""
    roles = sorted({role.value for role in map(role_of, user.job_profiles) if role is not None})
    first, _, last = (user.full_name or "").partition(" ")
    return {
        "bs_email": user.email,
        "bs_firstname": first or None,
        "bs_lastname": last or None,
        "bs_roles": ",".join(roles),
    }


def to_site_access(row: SiteAccessRow) -> Record | None:
    """The ``bs_customersitesbyuser`` record; None for a row whose profile grants no site."""
    site = row.granted_site
    if site is None:
        return None
    return {"bs_email": row.user_id, "bs_sitenumber": site}


def users_stream(edw: Engine, page_rows: int = 5000) -> Stream[WorkdayUser]:
    """The ``user_roles`` stream: every Workday user with their roles."""

    def read(_: ReadWindow) -> Iterator[Sequence[Row]]:
        return read_users(edw, page_rows)

    return Stream(name=USERS_STREAM, model=WorkdayUser, read=read, transform=to_user, target=USERS_TARGET)


def user_sites_stream(edw: Engine, page_rows: int = 5000) -> Stream[SiteAccessRow]:
    """The ``user_sites`` stream: access rows, deleted in Dataverse when gone from Workday."""

    def read(_: ReadWindow) -> Iterator[Sequence[Row]]:
        return _access_rows(edw, page_rows)

    return Stream(
        name=SITES_STREAM,
        model=SiteAccessRow,
        read=read,
        transform=to_site_access,
        target=SITES_TARGET,
        deletes=True,
    )
