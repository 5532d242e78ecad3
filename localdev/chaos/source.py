"""The chaos run's stream source: a small sandbox SQL Server whose ``vwPAYROLL_SUMMARY`` holds N rows.

The stream is the real ``worked_hours`` (``vwPAYROLL_SUMMARY`` → ``bs_payrolldetail``,
summed by site, job code and day). Each source row here is its own site, job
code and day (``SITES`` sites by ``JOB_CODES`` by as many days as N needs, REGULAR
pay, amounts already to the cent), so the target must hold exactly one record
per source row, whose content the proof computes from the row's raw columns.
The rest of the sandbox (master sites with GL strings, for the GP statements)
is ``build_sandbox``'s, at a size that builds in seconds.
"""

from __future__ import annotations

import hashlib
import random
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from datetime import date, timedelta
from pathlib import Path

from localdev.sandbox_sql import build_sandbox
from localdev.sandbox_sql.loading import open_databases, qualified
from shared.sql.tables import vw_payroll_summary

SITES = 1000
JOB_CODES = ("GSA", "GSC", "CASH", "LDGSC", "SHUTL2", "VALET", "BELL", "DOORMAN", "SUPV", "MGR")
FIRST_DAY = date(2025, 1, 1)
_INSERT_ROWS = 50_000


def build_source(folder: Path, records: int, seed: int, world_sites: int) -> str:
    """Build the sandbox in ``folder`` (``world_sites`` master sites, for the GP statements) with ``records``
    payroll rows drawn from ``seed``; its SQL URL."""
    summary = build_sandbox(folder, sites=world_sites, days=1, seed=seed % 1000)
    with closing(open_databases(folder)) as connection:
        connection.execute(f"DELETE FROM {qualified(vw_payroll_summary)}")  # noqa: S608 - a name from tables.py
        statement = (
            f"INSERT INTO {qualified(vw_payroll_summary)} "  # noqa: S608 - a name from tables.py
            "(WORK_LOCATION, DATE, TITLE, PAY_TYPE, TOTAL_HOURS, TOTAL_DOLLARS) VALUES (?, ?, ?, 'REGULAR', ?, ?)"
        )
        rows = payroll_rows(records, seed)
        while chunk := [row for _, row in zip(range(_INSERT_ROWS), rows, strict=False)]:
            connection.executemany(statement, chunk)
        connection.execute("COMMIT")
    return summary.url


def payroll_rows(records: int, seed: int) -> Iterator[tuple[str, str, str, float, float]]:
    """(site, day, job code, hours, dollars) for each of ``records`` rows: one per site, code and day."""
    dice = random.Random(f"chaos-source/{seed}")
    per_day = SITES * len(JOB_CODES)
    for index in range(records):
        day = FIRST_DAY + timedelta(days=index // per_day)
        site, code = divmod(index % per_day, len(JOB_CODES))
        hours = round(dice.uniform(0.25, 12), 2)
        yield (
            f"{site + 1:04d}",
            day.isoformat(),
            JOB_CODES[code],
            hours,
            round(hours * dice.uniform(14, 32), 2),
        )


def content_digest(site: str, job_code: str, day: str, hours: float, cost: float) -> str:
    """One record's content as the stream maps it (site padded, code upper case, amounts to the cent)."""
    text = f"{site}|{job_code}|{day}|{hours:.2f}|{cost:.2f}"
    return hashlib.sha256(text.encode()).hexdigest()


def expected_records(sql_folder: Path) -> dict[tuple[str, str, str], str]:
    """Each source row's target key (site, job code, day) and content digest, read from the SQLite file."""
    with closing(sqlite3.connect(sql_folder / "TP_LEGION.sqlite")) as connection:
        found = connection.execute(
            'SELECT WORK_LOCATION, TITLE, DATE, TOTAL_HOURS, TOTAL_DOLLARS FROM "vwPAYROLL_SUMMARY"'
        )
        expected: dict[tuple[str, str, str], str] = {}
        for site, code, day, hours, dollars in found:
            key = (str(site).strip().zfill(4), str(code).strip().upper(), str(day)[:10])
            expected[key] = content_digest(*key, float(hours), float(dollars))
        return expected
