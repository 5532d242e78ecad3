"""Job codes and their use by site, from Legion's schedule → ``bs_jobcode`` and ``bs_jobcodesbysite``.

Replaces the "JobCodes" dataflow (DOMAIN.md §2). A job code is Legion's
``WORK_ROLE``; the codes and the sites using them are read from the shifts
scheduled over the last 28 days, deleted shifts left out (Towne Park's
schedule query forgets ``DELETED = 'No'``; the hub does not).

Codes are immutable and new ones get their code as title, which is how the
billing app recognises a new code; people then edit ``bs_jobtitle`` in
Dataverse, so the job-code target keeps that column (``skip_if_changed``).
Use by site carries the number of employees scheduled on the code, which the
forecast multiplies for salaried codes. Sites are padded to four digits and
merged here, on the few dozen rows per site the SQL returns.

With change tracking on ``SHIFT_ENTITY``, use by site reads only the sites
whose shifts changed and re-counts each of them whole (every code there): a
count of distinct employees cannot be adjusted by one shift, and a shift's
old role is not in the change table, so the site is the smallest key a
change is known to leave intact around it.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import Engine, and_, func, select

from shared.connectors.dataverse.sink import ConflictPolicy, DataverseTarget
from shared.connectors.legion.days import LastDays, shift_days, utc_today
from shared.connectors.legion.wage_rates import JobCode
from shared.connectors.tracked_changes import TrackedChanges
from shared.pipeline.stream import ReadWindow, Record, Row, Stream
from shared.sites import SiteNumber, site_key, spellings
from shared.sql.change_tracking import SHIFTS, Change
from shared.sql.engines import stream_rows
from shared.sql.tables import shift_entity

CODES_STREAM = "job_codes"
SITES_STREAM = "job_codes_by_site"
CODES_TARGET = DataverseTarget(
    entity_set="bs_jobcodes",
    alternate_key=("bs_jobcode",),
    conflict_policy=ConflictPolicy.SKIP_IF_CHANGED,
    keep_dataverse_fields=("bs_jobtitle",),
)
SITES_TARGET = DataverseTarget(entity_set="bs_jobcodesbysites", alternate_key=("bs_sitenumber", "bs_jobcode"))
SCHEDULE_DAYS = 28


class LegionJobCode(BaseModel):
    job_code: JobCode


class JobCodeUse(BaseModel):
    """One job code at one site: how many employees were scheduled on it."""

    site: SiteNumber
    job_code: JobCode
    active_employees: int = Field(ge=0)


def _scheduled_use(days: LastDays, sites: Collection[str] | None = None) -> Any:
    first, end = days.bounds()
    shifts = shift_entity.c
    statement = (
        select(
            shifts.LOCATION_EXTERNAL_ID.label("site"),
            shifts.WORK_ROLE.label("job_code"),
            func.count(shifts.EMPLOYEE_EXTERNAL_ID.distinct()).label("active_employees"),
        )
        .where(
            and_(
                shift_days(first, end), shifts.DELETED == "No", func.ltrim(func.rtrim(shifts.WORK_ROLE)) != ""
            )
        )
        .group_by(shifts.LOCATION_EXTERNAL_ID, shifts.WORK_ROLE)
    )
    if sites is None:
        return statement
    return statement.where(shifts.LOCATION_EXTERNAL_ID.in_(sorted(spellings(sites))))


def read_job_code_use(
    edw: Engine, days: LastDays, page_rows: int, sites: Collection[str] | None = None
) -> list[dict[str, Any]]:
    """Use by site (only ``sites``' when given), sites padded and merged (an employee is counted once per
    spelling of a site)."""
    merged: dict[tuple[str, str], dict[str, Any]] = {}
    for page in stream_rows(edw, _scheduled_use(days, sites), page_rows):
        for row in page:
            key = (site_key(row["site"]), (row["job_code"] or "").strip().upper())
            use = merged.setdefault(key, {"site": key[0], "job_code": key[1], "active_employees": 0})
            use["active_employees"] += row["active_employees"] or 0
    return [merged[key] for key in sorted(merged)]


def _pages(rows: list[dict[str, Any]], page_rows: int) -> Iterator[Sequence[Row]]:
    for start in range(0, len(rows), page_rows):
        yield rows[start : start + page_rows]


def to_job_code(code: LegionJobCode) -> Record:
    """A new code's title is its code; the billing app shows it as new until someone names it."""
    return {"bs_jobcode": code.job_code, "bs_jobtitle": code.job_code}


def to_job_code_by_site(use: JobCodeUse) -> Record:
    """The ``bs_jobcodesbysite`` record with only the use: the rate is the wage-rate sync's column."""
    return {
        "bs_sitenumber": use.site,
        "bs_jobcode": use.job_code,
        "bs_activeemployeecount": use.active_employees,
    }


def _shift_sites(change: Change) -> set[str]:
    """The sites a changed shift concerns: where it was (its key) and where it is (its row)."""
    where = [change.key["LOCATION_EXTERNAL_ID"], (change.row or {}).get("LOCATION_EXTERNAL_ID")]
    return {site_key(site) for site in where if site}


def job_code_streams(
    edw: Engine, *, days: LastDays | None = None, page_rows: int = 5000, track_changes: bool = False
) -> tuple[Stream[LegionJobCode], Stream[JobCodeUse]]:
    """The ``job_codes`` and ``job_codes_by_site`` streams, over the same scheduled shifts; with
    ``track_changes`` use by site reads ``SHIFT_ENTITY``'s changes on incremental runs."""
    window = days or LastDays(SCHEDULE_DAYS, utc_today)

    def read_codes(_: ReadWindow) -> Iterator[Sequence[Row]]:
        codes = sorted({row["job_code"] for row in read_job_code_use(edw, window, page_rows)})
        return _pages([{"job_code": code} for code in codes], page_rows)

    def read_use(_: ReadWindow) -> Iterator[Sequence[Row]]:
        return _pages(read_job_code_use(edw, window, page_rows), page_rows)

    codes = Stream(
        name=CODES_STREAM, model=LegionJobCode, read=read_codes, transform=to_job_code, target=CODES_TARGET
    )

    def re_read(sites: set[str]) -> Iterator[Sequence[Row]]:
        return _pages(read_job_code_use(edw, window, page_rows, sites), page_rows)

    changes = TrackedChanges(edw, SHIFTS, _shift_sites, re_read, key_of=lambda key: key[0])
    use = Stream(
        name=SITES_STREAM,
        model=JobCodeUse,
        read=read_use,
        transform=to_job_code_by_site,
        target=SITES_TARGET,
        changes=changes if track_changes else None,
    )
    return codes, use
