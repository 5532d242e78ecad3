"""``GET /v1/forecast/payroll-coverage``: how much of a month's payroll budget the job-profile mapping placed.

The payroll budget stream (``shared.connectors.edw.payroll_budget``) records
each month's coverage in its run record, and each site's beside its batches
(the record's ``report_path``); this read answers it
for one month from the newest finished run that wrote that month, so the
known gap between budgeted and mapped hours (DOMAIN.md §5) is visible
without reading the EDW: two table queries and one blob.
"""

from __future__ import annotations

from datetime import UTC, datetime

import orjson

from shared.api.payroll_coverage import PayrollCoverage, SiteCoverage
from shared.connectors.edw.payroll_budget import STREAM
from shared.pipeline.run_record import RunRecord, RunStatus
from shared.pipeline.run_table import RunTable
from shared.platform.blob_store import BlobStore

_RUNS_LOOKED_AT = 20  # a month is written by every daily run and by backfills: the newest few suffice


class PayrollCoverageDesk:
    """Answers the coverage of a month from the payroll budget's run records."""

    def __init__(self, runs: RunTable, staging: BlobStore) -> None:
        self._runs, self._staging = runs, staging

    def month(self, period: str) -> PayrollCoverage | None:
        """The newest finished run's coverage of ``period``; None when no finished run wrote it."""
        found: list[RunRecord] = []
        for status in (RunStatus.SUCCEEDED, RunStatus.PARTIALLY_FAILED):
            for record in self._runs.page(stream=STREAM, status=status.value, top=_RUNS_LOOKED_AT).records:
                months = {month["period"] for month in (record.report or {}).get("payrollCoverage", [])}
                if period in months and record.report_path is not None:
                    found.append(record)
                    break
        if not found:
            return None
        record = max(found, key=lambda run: run.started_at or datetime.min.replace(tzinfo=UTC))
        detail = orjson.loads(self._staging.get(str(record.report_path)))
        rows = [row for row in detail["payrollCoverage"] if row["period"] == period]
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
