"""Who works at each site in Legion: job code, pay rate and the shifts they usually work.

A site's headcount varies widely around the mean (a 1,600-room convention hotel
against a 120-room select-service one). Every site has a manager and
supervisors; hourly staff hold the job codes of the site's kind of business.
Night-shift staff at sites that run overnight are paid a shift differential on
every shift and have minutes past midnight (the ``*_NEXT_DAY`` timesheet
columns). A few sites keep someone on a title that is only ever paid with
zero hours (a stipend), so that title's average hourly rate divides by zero.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from localdev.sandbox_sql.job_codes import BY_CODE, HOTEL, JOB_CODES, JobCode
from localdev.sandbox_sql.world import Site

_MINUTES_PER_DAY = 24 * 60
_SALARIED_HOURS_PER_YEAR = 2080
# Usual shift lengths in minutes; the few 13-hour shifts reach double overtime.
_SHIFT_LENGTHS = (480,) * 28 + (420,) * 4 + (360,) * 2 + (300,) * 4 + (600,) * 4 + (720, 720, 780)
_DAY_STARTS = (360, 390, 420, 450, 840, 870, 900)  # 6:00 … 15:00, in minutes after midnight
_NIGHT_STARTS = (1320, 1350, 1380)  # 22:00 … 23:00


@dataclass(frozen=True)
class Employee:
    employee_id: str  # EMPLOYEE_EXTERNAL_ID
    job: JobCode
    hourly_rate: float  # salaried staff: annual base pay / 2080
    shift_minutes: int
    start_minute: int  # minutes after midnight the usual shift starts
    work_chance: float  # how likely a scheduled day is, Monday to Friday
    weekend_chance: float
    differential: float  # dollars an hour paid as DIFFERENTIAL on each shift; 0 for none
    stipend_only: bool = False

    @property
    def same_day_share(self) -> float:
        """The part of a shift worked before midnight; the rest lands in the *_NEXT_DAY minutes."""
        return min(1.0, (_MINUTES_PER_DAY - self.start_minute) / self.shift_minutes)


def make_staff(
    rng: random.Random, sites: tuple[Site, ...], employees_per_site: int
) -> dict[Site, list[Employee]]:
    """Legion staff by site; closed sites have none left."""
    next_id = [200_000]

    def new_id() -> str:
        next_id[0] += rng.randint(1, 9)
        return str(next_id[0])

    staff: dict[Site, list[Employee]] = {}
    stipend_sites = set(rng.sample([site.number for site in sites], max(1, len(sites) // 30)))
    for site in sites:
        if site.last_worked is not None:
            staff[site] = []
            continue
        headcount = max(4, round(employees_per_site * rng.lognormvariate(0, 0.6) / math.exp(0.18)))
        roster = [_employee(rng, new_id(), site, job) for job in _site_jobs(rng, site, headcount)]
        if site.number in stipend_sites:
            unused = [job for job in JOB_CODES if job not in {e.job for e in roster} and not job.salaried]
            roster.append(_stipend(new_id(), rng.choice(unused)))
        staff[site] = roster
    return staff


def _site_jobs(rng: random.Random, site: Site, headcount: int) -> list[JobCode]:
    """The job code of each of the site's ``headcount`` employees."""
    jobs = [BY_CODE["MGR"]]
    if headcount >= 15:
        jobs.append(BY_CODE["ASTMGR"])
    jobs += [BY_CODE["SUPV"]] * max(1, headcount // 12)
    pool = [job for job in JOB_CODES if site.kind in job.kinds and job.weight > 0]
    chosen = _weighted_sample(rng, pool, min(len(pool), 3 + headcount // 5, 12))
    jobs += chosen
    remaining = headcount - len(jobs)
    if remaining > 0:
        jobs += rng.choices(chosen, [job.weight for job in chosen], k=remaining)
    return jobs


def _weighted_sample(rng: random.Random, pool: list[JobCode], count: int) -> list[JobCode]:
    keyed = sorted(pool, key=lambda job: rng.random() ** (1 / job.weight), reverse=True)
    return keyed[:count]


def _employee(rng: random.Random, employee_id: str, site: Site, job: JobCode) -> Employee:
    level = site.wage_level * rng.uniform(0.95, 1.1)
    if job.salaried:
        annual = job.base_rate * _SALARIED_HOURS_PER_YEAR * level
        return Employee(
            employee_id, job, round(annual / _SALARIED_HOURS_PER_YEAR, 4), 480, 480, 0.95, 0.1, 0.0
        )
    night = site.overnight and rng.random() < 0.25
    part_time = rng.random() < 0.3
    weekday = rng.uniform(0.35, 0.55) if part_time else rng.uniform(0.65, 0.9)
    weekend = weekday * (1.1 if site.kind == HOTEL else 0.4)
    return Employee(
        employee_id=employee_id,
        job=job,
        hourly_rate=round(job.base_rate * level, 2),
        shift_minutes=rng.choice(_SHIFT_LENGTHS),
        start_minute=rng.choice(_NIGHT_STARTS if night else _DAY_STARTS),
        work_chance=weekday,
        weekend_chance=min(0.95, weekend),
        differential=rng.choice((1.0, 1.5, 2.0)) if night else 0.0,
    )


def _stipend(employee_id: str, job: JobCode) -> Employee:
    return Employee(employee_id, job, 0.0, 0, 0, 0.0, 0.0, 0.0, stipend_only=True)
