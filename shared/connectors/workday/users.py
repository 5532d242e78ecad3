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

With change tracking on ``WORKDAY_RLS_BISECURITY`` both streams read only the
users whose access rows changed, each user whole (all their rows: roles and
sites are the user's together), so a role change reaches Dataverse on the next
short timer, and a site a user lost is deleted then.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, StringConstraints, model_validator
from sqlalchemy import ColumnElement, Engine, func, select

from shared.connectors.dataverse.sink import DataverseTarget
from shared.connectors.tracked_changes import TrackedChanges
from shared.connectors.workday.roles import Role, role_of, site_column
from shared.pipeline.stream import ReadWindow, Record, Row, Stream
from shared.sites import site_number
from shared.sql.change_tracking import SITE_ACCESS, Change
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


def _email(column: ColumnElement[Any]) -> ColumnElement[Any]:
    """An email column as the hub compares it: trimmed, lower case."""
    return func.lower(func.ltrim(func.rtrim(column)))


def _access_rows(
    edw: Engine, page_rows: int, emails: Collection[str] | None = None
) -> Iterator[Sequence[Row]]:
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
    if emails is not None:
        statement = statement.where(_email(table.c.USER_ID).in_(sorted(emails)))
    return stream_rows(edw, statement, page_rows)


def read_users(edw: Engine, page_rows: int, emails: Collection[str] | None = None) -> Iterator[Sequence[Row]]:
    """Each Workday user once (each of ``emails`` when given), with every job profile the access table holds
    for them."""
    names: dict[str, str] = {}
    salaries = select(workday_site_salaries.c.EMAIL_PRIMARY_WORK, workday_site_salaries.c.FULL_LEGAL_NAME)
    if emails is not None:
        salaries = salaries.where(_email(workday_site_salaries.c.EMAIL_PRIMARY_WORK).in_(sorted(emails)))
    for page in stream_rows(edw, salaries, page_rows):
        for row in page:
            email, name = (row["EMAIL_PRIMARY_WORK"] or "").strip().lower(), row["FULL_LEGAL_NAME"]
            if email and name and name.strip():
                names.setdefault(email, name.strip())
    users: dict[str, dict[str, Any]] = {}
    for access in _access_rows(edw, page_rows, emails):
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


def _changed_users(change: Change) -> set[str]:
    return {(change.key["USER_ID"] or "").strip().lower()}


def _user_changes(edw: Engine, re_read: Any) -> TrackedChanges:
    """A stream's read of the changed users: both streams' records are keyed by the email first."""
    return TrackedChanges(edw, SITE_ACCESS, _changed_users, re_read, key_of=lambda key: key[0])


def users_stream(edw: Engine, page_rows: int = 5000, track_changes: bool = False) -> Stream[WorkdayUser]:
    """The ``user_roles`` stream: every Workday user with their roles (with ``track_changes``, on an
    incremental run, the users whose access rows changed)."""

    def read(_: ReadWindow) -> Iterator[Sequence[Row]]:
        return read_users(edw, page_rows)

    def re_read(emails: set[str]) -> Iterator[Sequence[Row]]:
        return read_users(edw, page_rows, emails)

    return Stream(
        name=USERS_STREAM,
        model=WorkdayUser,
        read=read,
        transform=to_user,
        target=USERS_TARGET,
        changes=_user_changes(edw, re_read) if track_changes else None,
    )


def user_sites_stream(
    edw: Engine, page_rows: int = 5000, track_changes: bool = False
) -> Stream[SiteAccessRow]:
    """The ``user_sites`` stream: access rows, deleted in Dataverse when gone from Workday (with
    ``track_changes``, on an incremental run, the rows of the users whose access rows changed)."""

    def read(_: ReadWindow) -> Iterator[Sequence[Row]]:
        return _access_rows(edw, page_rows)

    def re_read(emails: set[str]) -> Iterator[Sequence[Row]]:
        return _access_rows(edw, page_rows, emails)

    return Stream(
        name=SITES_STREAM,
        model=SiteAccessRow,
        read=read,
        transform=to_site_access,
        target=SITES_TARGET,
        deletes=True,
        changes=_user_changes(edw, re_read) if track_changes else None,
    )
