"""``GET /v1/forecast/payroll-coverage``: how much of a month's payroll budget the job-profile mapping placed.

The payroll budget stream (``shared.connectors.edw.payroll_budget``) records
the coverage of each site and month in its run record; this read answers it
for one month from the newest finished run that wrote that month, so the
known gap between budgeted and mapped hours (DOMAIN.md §5) is visible
without reading the EDW: a few run records, one table query each.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from shared.api.payroll_coverage import PayrollCoverage, SiteCoverage
from shared.connectors.edw.payroll_budget import STREAM
from shared.pipeline.run_record import RunRecord, RunStatus
from shared.pipeline.run_table import RunTable

_RUNS_LOOKED_AT = 20  # a month is written by every daily run and by backfills: the newest few suffice


class PayrollCoverageDesk:
    """Answers the coverage of a month from the payroll budget's run records."""

    def __init__(self, runs: RunTable) -> None:
        self._runs = runs

    def month(self, period: str) -> PayrollCoverage | None:
        """The newest finished run's coverage of ``period``; None when no finished run wrote it."""
        found: list[tuple[RunRecord, list[dict[str, Any]]]] = []
        for status in (RunStatus.SUCCEEDED, RunStatus.PARTIALLY_FAILED):
            for record in self._runs.page(stream=STREAM, status=status.value, top=_RUNS_LOOKED_AT).records:
                rows = [
                    row for row in (record.report or {}).get("payrollCoverage", []) if row["period"] == period
                ]
                if rows:
                    found.append((record, rows))
                    break
        if not found:
            return None
        record, rows = max(found, key=lambda pair: pair[0].started_at or datetime.min.replace(tzinfo=UTC))
        sites = [SiteCoverage.model_validate(row) for row in sorted(rows, key=lambda row: row["site"])]
        return PayrollCoverage(
            period=period,
            run_id=record.id,
            finished_at=record.finished_at,
            budgeted_hours=round(sum(site.budgeted_hours for site in sites), 2),
            mapped_hours=round(sum(site.mapped_hours for site in sites), 2),
            unmapped_hours=round(sum(site.unmapped_hours for site in sites), 2),
            sites=sites,
        )
