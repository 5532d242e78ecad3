"""``/v1/forecast/payroll-coverage``: what the forecast's inputs in Dataverse rest on (the payroll budget's mapping coverage)."""

from __future__ import annotations

from shared.api.answers import ok
from shared.api.calls import ApiServices, Call
from shared.api.http import ApiResponse
from shared.api.problems import ProblemError


def get_payroll_coverage(services: ApiServices, call: Call) -> ApiResponse:
    period = call.query.period
    coverage = None if services.payroll_coverage is None else services.payroll_coverage.month(period)
    if coverage is None:
        raise ProblemError(
            404, "coverage-not-found", f"No finished run of the payroll budget wrote {period}; sync it first."
        )
    return ok(coverage)
