"""What ``GET /v1/forecast/payroll-coverage`` takes and answers (the operations table reads these when the
app is indexed, so this module imports no SDK; ``payroll_coverage_desk`` answers the call)."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from shared.api.models import PERIOD_PATTERN, ApiInput, ApiModel


class CoverageQuery(ApiInput):
    period: str = Field(pattern=PERIOD_PATTERN, title="Period", description="The month, as yyyy-MM.")


class SiteCoverage(ApiModel):
    site: str = Field(description="The four-digit site number.")
    budgeted_hours: float = Field(description="'PR Hours' > 0 of every profile, shift differentials out.")
    mapped_hours: float = Field(description="The budgeted hours some rule placed on a job code.")
    written_hours: float = Field(
        description="The budget hours written to bs_payrolldetail (salaried codes at 8 a day an employee)."
    )
    hours_by_rule: dict[str, float] = Field(
        description="Budgeted hours by the rule that placed them: handMapped, exact, closest, split, unmapped."
    )
    unmapped_hours: float = Field(description="Budgeted hours of profiles no rule placed.")
    unmapped_profiles: list[str] = Field(description="The job profiles no rule placed.")
    shift_differential_hours: float = Field(description="Hours of shift-differential profiles, left out.")


class PayrollCoverage(ApiModel):
    period: str = Field(description="The month, as yyyy-MM.")
    run_id: str = Field(description="The payroll budget run the coverage is from.")
    finished_at: datetime | None = Field(description="When that run finished.")
    budgeted_hours: float = Field(description="All sites' budgeted hours.")
    mapped_hours: float = Field(description="All sites' mapped hours.")
    unmapped_hours: float = Field(description="All sites' unmapped hours.")
    sites: list[SiteCoverage] = Field(description="Each site's coverage, by site number.")
