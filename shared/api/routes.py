"""The route table the app is indexed from: each served operation's id, method, route and key level, and nothing else.

The Functions worker imports ``function_app.py`` on every cold start and
registers one HTTP trigger per served operation before it serves anything.
The operations table (``shared/api/operations.py``) holds each operation's
pydantic models and handler too, which cost a cold start tens of
milliseconds to import; this table is plain data, so indexing registers the
routes and the first call of a trigger loads its operation. A test holds the
two tables to the same operations, in the same order, with the same routes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

AuthLevel = Literal["anonymous", "function", "admin"]


@dataclass(frozen=True)
class Route:
    """How the Functions host routes one operation: ``route`` is under the ``api`` route prefix."""

    operation_id: str
    method: str
    route: str
    auth_level: AuthLevel = "function"


SERVED_ROUTES: tuple[Route, ...] = (
    Route("ListSyncs", "GET", "v1/syncs"),
    Route("StartSync", "POST", "v1/syncs/{stream}"),
    Route("ListRuns", "GET", "v1/runs"),
    Route("GetRun", "GET", "v1/runs/{id}"),
    Route("ReplayRun", "POST", "v1/runs/{id}/replay"),
    Route("ListDeadLetters", "GET", "v1/deadletters/{queue}"),
    Route("ResubmitDeadLetter", "POST", "v1/deadletters/{queue}/{messageId}/resubmit"),
    Route("DiscardDeadLetter", "DELETE", "v1/deadletters/{queue}/{messageId}", "admin"),
    Route("StartGpPosting", "POST", "v1/gp/postings"),
    Route("GetGpPosting", "GET", "v1/gp/postings/{id}"),
    Route("ListBudgetRevisions", "GET", "v1/budget/revisions"),
    Route("ApproveBudgetRevision", "POST", "v1/budget/revisions/{id}/approve"),
    Route("RejectBudgetRevision", "POST", "v1/budget/revisions/{id}/reject"),
    Route("CheckStatementForecast", "POST", "v1/statements/{id}/forecast-check"),
    Route("GetSiteVariance", "GET", "v1/sites/{site}/variance"),
    Route("GetDistrictVariance", "GET", "v1/districts/{district}/variance"),
    Route("CalculateForecast", "POST", "v1/forecast/snapshots"),
    Route("GetPayrollCoverage", "GET", "v1/forecast/payroll-coverage"),
    Route("GetBillingReadiness", "GET", "v1/billing/readiness"),
    Route("GetBillingReconciliation", "GET", "v1/billing/reconciliation"),
    Route("CaptureLead", "POST", "v1/leads"),
    Route("GetPipeline", "GET", "v1/pipeline"),
    Route("MapOpportunitySite", "PUT", "v1/salesforce/opportunities/{id}/site"),
    Route("LiveRead", "GET", "v1/edw/{name}"),
    Route("GetHealth", "GET", "health", "anonymous"),
    Route("GetReadiness", "GET", "health/ready"),
    Route("GetOpenApi", "GET", "v1/openapi.json", "anonymous"),
)
