"""Every ``/api/v1`` operation in one table: route, role, inputs, answers and the handler that answers it.

The Functions triggers (``functions/api.py`` registers one per served
operation), the request pipeline and the OpenAPI document all read this
table, so the document cannot drift from what the hub serves.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pydantic import BaseModel, Field, create_model

from shared.api import (
    billing_models,
    forecast_models,
    models,
    pipeline_models,
    revision_models,
    site_mapping_models,
)
from shared.api.calls import Handler
from shared.api.handlers import (
    billing,
    budget_revisions,
    dead_letters,
    forecast,
    forecast_checks,
    gp_postings,
    health,
    leads,
    live_reads,
    payroll_coverage,
    pipeline,
    runs,
    site_mappings,
    syncs,
)
from shared.api.payroll_coverage import CoverageQuery, PayrollCoverage
from shared.api.roles import Role
from shared.api.routes import AuthLevel
from shared.workflows.lead_capture.lead import LeadReceipt, LeadSubmission

if TYPE_CHECKING:
    from shared.api.live_reads import LiveRead


@dataclass(frozen=True)
class Header:
    name: str
    description: str
    type: str = "string"


@dataclass(frozen=True)
class Reply:
    """One documented answer: its status, what it means, its body model and headers."""

    status: int
    description: str
    model: type[BaseModel] | None = None
    headers: tuple[Header, ...] = ()
    raw: bool = False  # a body the OpenAPI document describes as any JSON (the document itself)


@dataclass(frozen=True)
class Operation:
    """One operation: how it is routed and documented, and the handler that answers it."""

    operation_id: str
    method: str
    route: str  # under the ``api`` route prefix, as the Functions trigger declares it
    summary: str
    description: str
    role: Role | None  # None: anonymous
    auth_level: AuthLevel = "function"
    path: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    request_headers: tuple[Header, ...] = ()  # optional request headers the handler reads (If-Match)
    body: type[BaseModel] | None = None
    replies: tuple[Reply, ...] = ()
    changes_state: bool = False
    tags: tuple[str, ...] = ()
    extensions: dict[str, object] = field(default_factory=dict)
    produces: tuple[str, ...] = ()  # content types beyond the document's JSON ones
    handler: Handler = field(kw_only=True)


_LOCATION = Header("Location", "The run's status URL: poll it until it stops answering 202.")
_RETRY_AFTER = Header("Retry-After", "Seconds to wait before polling again.", "integer")
_ETAG = Header("ETag", "A hash of the body; send it back as If-None-Match to get 304 when unchanged.")
_ACCEPTED = Reply(202, "Queued: poll Location until it answers 200.", models.Run, (_LOCATION, _RETRY_AFTER))
_RUNNING = Reply(
    202,
    "The run is queued or still running: poll again after Retry-After.",
    models.Run,
    (_LOCATION, _RETRY_AFTER),
)
_ETAG_READ = Header("ETag", "The statement's ETag: send it as If-Match to apply only if it is unchanged.")
_CONFLICT = Reply(409, "The stream is running already; detail names the running run's id.")
_NOT_FOUND = Reply(404, "No such resource.")


SYNC_OPERATIONS: tuple[Operation, ...] = (
    Operation(
        "ListSyncs",
        "GET",
        "v1/syncs",
        "List syncs",
        "Every stream the hub syncs, with its schedule, last run, watermark and lag.",
        Role.READ,
        replies=(Reply(200, "The streams.", models.SyncList),),
        tags=("Syncs",),
        handler=syncs.list_syncs,
    ),
    Operation(
        "StartSync",
        "POST",
        "v1/syncs/{stream}",
        "Start a sync",
        "Queues a run of the stream and answers 202 at once with the run's status URL in Location. "
        "Poll that URL, waiting Retry-After seconds between calls, until it answers 200 with the result.",
        Role.RUN,
        path=models.StreamPath,
        body=models.SyncStart,
        replies=(_ACCEPTED, _CONFLICT, _NOT_FOUND),
        changes_state=True,
        tags=("Syncs",),
        handler=syncs.start_sync,
    ),
    Operation(
        "ListRuns",
        "GET",
        "v1/runs",
        "List runs",
        "Runs, newest first, optionally of one stream, in one state, or since a time; paged.",
        Role.READ,
        query=models.RunQuery,
        replies=(Reply(200, "A page of runs.", models.RunPage),),
        tags=("Runs",),
        extensions={"x-ms-pageable": {"nextLinkName": "nextLink"}},
        handler=runs.list_runs,
    ),
    Operation(
        "GetRun",
        "GET",
        "v1/runs/{id}",
        "Get a run",
        "The run's status and counts: 202 while it is queued, running or loading, 200 once it has finished.",
        Role.READ,
        path=models.RunPath,
        replies=(Reply(200, "The run has finished.", models.Run), _RUNNING, _NOT_FOUND),
        tags=("Runs",),
        handler=runs.get_run,
    ),
    Operation(
        "ReplayRun",
        "POST",
        "v1/runs/{id}/replay",
        "Replay a run",
        "Queues a new run that resends the staged batches of this run, without reading the source again.",
        Role.RUN,
        path=models.RunPath,
        replies=(_ACCEPTED, _CONFLICT, _NOT_FOUND),
        changes_state=True,
        tags=("Runs",),
        handler=runs.replay_run,
    ),
    Operation(
        "ListDeadLetters",
        "GET",
        "v1/deadletters/{queue}",
        "List dead letters",
        "Messages the queue gave up on, with the reason and delivery count, oldest first; paged.",
        Role.READ,
        path=models.QueuePath,
        query=models.DeadLetterQuery,
        replies=(Reply(200, "A page of dead letters.", models.DeadLetterPage), _NOT_FOUND),
        tags=("Dead letters",),
        extensions={"x-ms-pageable": {"nextLinkName": "nextLink"}},
        handler=dead_letters.list_dead_letters,
    ),
    Operation(
        "ResubmitDeadLetter",
        "POST",
        "v1/deadletters/{queue}/{messageId}/resubmit",
        "Resubmit a dead letter",
        "Sends the dead letter back to its queue as a new message and removes it from the dead letters.",
        Role.RUN,
        path=models.DeadLetterPath,
        replies=(
            Reply(200, "Resubmitted; the body is the dead letter as it was.", models.DeadLetter),
            _NOT_FOUND,
        ),
        changes_state=True,
        tags=("Dead letters",),
        handler=dead_letters.resubmit_dead_letter,
    ),
    Operation(
        "DiscardDeadLetter",
        "DELETE",
        "v1/deadletters/{queue}/{messageId}",
        "Discard a dead letter",
        "Removes the dead letter for good (the admin key only); the audit log keeps who did it.",
        Role.ADMIN,
        auth_level="admin",
        path=models.DeadLetterPath,
        replies=(
            Reply(200, "Discarded; the body is the dead letter as it was.", models.DeadLetter),
            _NOT_FOUND,
        ),
        changes_state=True,
        tags=("Dead letters",),
        handler=dead_letters.discard_dead_letter,
    ),
)

_GP_LOCATION = Header("Location", "The posting's status URL: poll it until it stops answering 202.")
_GP_RUNNING = Reply(
    202,
    "Queued or posting: poll Location after Retry-After until it answers 200.",
    models.GpPosting,
    (_GP_LOCATION, _RETRY_AFTER),
)
GP_OPERATIONS: tuple[Operation, ...] = (
    Operation(
        "StartGpPosting",
        "POST",
        "v1/gp/postings",
        "Post to Great Plains",
        "Queues the posting of a billing statement's invoices (statementId) or of a month's unit statistics "
        "(unitStatisticsPeriod) to GP and answers 202 at once with the posting's status URL in Location. "
        "While a posting of the same statement or month is queued or running, that posting is returned.",
        Role.RUN,
        body=models.GpPostingStart,
        replies=(_GP_RUNNING, Reply(503, "GP posting is not configured, or a dependency is unavailable.")),
        changes_state=True,
        tags=("Great Plains",),
        handler=gp_postings.start_gp_posting,
    ),
    Operation(
        "GetGpPosting",
        "GET",
        "v1/gp/postings/{id}",
        "Get a GP posting",
        "The posting's status and each GP document's outcome: 202 while it is queued or running, "
        "200 once it has finished.",
        Role.READ,
        path=models.GpPostingPath,
        replies=(Reply(200, "The posting has finished.", models.GpPosting), _GP_RUNNING, _NOT_FOUND),
        tags=("Great Plains",),
        handler=gp_postings.get_gp_posting,
    ),
)

_DECIDED = Reply(409, "The revision is decided already (or the hub withdrew it): detail says its status.")
BUDGET_OPERATIONS: tuple[Operation, ...] = (
    Operation(
        "ListBudgetRevisions",
        "GET",
        "v1/budget/revisions",
        "List budget revisions",
        "Changes to a fixed year's budget (BUDGET_FINAL after the cut-off), newest first: pending_approval ones "
        "wait for an approver and are not in Budget Monthly until approved.",
        Role.READ,
        query=revision_models.RevisionQuery,
        replies=(Reply(200, "The revisions.", revision_models.RevisionPage),),
        tags=("Budget",),
        handler=budget_revisions.list_budget_revisions,
    ),
    Operation(
        "ApproveBudgetRevision",
        "POST",
        "v1/budget/revisions/{id}/approve",
        "Approve a budget revision",
        "Approves the change (app role Budget.Approve, from an Entra ID token: a function key alone answers "
        "403); the next budget_monthly run loads it and marks it applied.",
        Role.BUDGET_APPROVE,
        path=revision_models.RevisionPath,
        body=revision_models.RevisionDecision,
        replies=(Reply(200, "Approved.", revision_models.BudgetRevision), _DECIDED, _NOT_FOUND),
        changes_state=True,
        tags=("Budget",),
        handler=budget_revisions.approve_budget_revision,
    ),
    Operation(
        "RejectBudgetRevision",
        "POST",
        "v1/budget/revisions/{id}/reject",
        "Reject a budget revision",
        "Rejects the change (app role Budget.Approve): the approved balance stays in Budget Monthly and this "
        "change is never loaded.",
        Role.BUDGET_APPROVE,
        path=revision_models.RevisionPath,
        body=revision_models.RevisionDecision,
        replies=(Reply(200, "Rejected.", revision_models.BudgetRevision), _DECIDED, _NOT_FOUND),
        changes_state=True,
        tags=("Budget",),
        handler=budget_revisions.reject_budget_revision,
    ),
)

BILLING_OPERATIONS: tuple[Operation, ...] = (
    Operation(
        "CheckStatementForecast",
        "POST",
        "v1/statements/{id}/forecast-check",
        "Check a statement against the forecast",
        "Compares the statement's amount with the forecast's internal revenue for its site and month and "
        "answers where it goes: APPROVAL_TEAM when the deviation passes both the contract's percentage and "
        "amount, AR_REVIEW for an arrears site whose revenue submission has comments, otherwise "
        "READY_TO_SEND, with both figures and the thresholds. With apply=true it also sets the statement's "
        "status, only if the statement is unchanged since If-Match (or since this check read it): 412 if not.",
        Role.RUN,
        path=models.StatementPath,
        query=models.ForecastCheckQuery,
        request_headers=(
            Header(
                "If-Match",
                "The statement's ETag from an earlier check: apply only if it is still unchanged.",
            ),
        ),
        replies=(
            Reply(200, "The decision (applied when asked).", models.ForecastCheckResult, (_ETAG_READ,)),
            _NOT_FOUND,
            Reply(412, "The statement changed since the ETag; its status is unchanged."),
            Reply(
                422,
                "The statement, its contract or the forecast lacks what the check needs; detail says what.",
            ),
            Reply(503, "The EDW is not configured, or a dependency is unavailable."),
        ),
        changes_state=True,
        tags=("Billing",),
        handler=forecast_checks.check_statement_forecast,
    ),
)

_VARIANCE_REPLIES = (
    Reply(200, "The lines.", forecast_models.VarianceReport, (_ETAG,)),
    Reply(304, "Unchanged since the ETag sent in If-None-Match."),
)
FORECAST_OPERATIONS: tuple[Operation, ...] = (
    Operation(
        "GetSiteVariance",
        "GET",
        "v1/sites/{site}/variance",
        "Get a site's budget variance",
        "Per month and line of the year: budget, actual, forecast by Towne Park's trending rules, variance "
        "(forecast minus budget) in money and %, and the rule behind each figure. From Dataverse "
        "(bs_budgetmonthly, bs_glactual, the daily actuals), never the EDW.",
        Role.READ,
        path=forecast_models.SitePath,
        query=forecast_models.VarianceQuery,
        replies=_VARIANCE_REPLIES,
        tags=("Forecast",),
        handler=forecast.get_site_variance,
    ),
    Operation(
        "GetDistrictVariance",
        "GET",
        "v1/districts/{district}/variance",
        "Get a district's budget variance",
        "The site variance of every site bs_mastercustomersite places in the district, in site order.",
        Role.READ,
        path=forecast_models.DistrictPath,
        query=forecast_models.VarianceQuery,
        replies=(*_VARIANCE_REPLIES, _NOT_FOUND),
        tags=("Forecast",),
        handler=forecast.get_district_variance,
    ),
    Operation(
        "CalculateForecast",
        "POST",
        "v1/forecast/snapshots",
        "Calculate the forecast",
        "Forecasts a district's (or the listed sites') year by the trending rules and appends it to the EDW "
        "as one snapshot in TP_STAGE; vwHUB_FORECAST_CONSOLIDATED shows each site's latest in "
        "vwFORECAST_CONSOLIDATED's schema. Run it after the forecast-input syncs settle.",
        Role.RUN,
        body=forecast_models.ForecastCalculationStart,
        replies=(
            Reply(201, "Calculated and written.", forecast_models.ForecastSnapshotView),
            _NOT_FOUND,
            Reply(503, "The EDW is not configured, or a dependency is unavailable."),
        ),
        changes_state=True,
        tags=("Forecast",),
        handler=forecast.calculate_forecast,
    ),
    Operation(
        "GetPayrollCoverage",
        "GET",
        "v1/forecast/payroll-coverage",
        "Get the payroll budget's coverage",
        "For one month: each site's budgeted payroll hours, the hours each job-profile mapping rule placed, "
        "the unmapped profiles and the hours written, from the newest finished payroll budget run.",
        Role.READ,
        query=CoverageQuery,
        replies=(Reply(200, "The month's coverage.", PayrollCoverage), _NOT_FOUND),
        tags=("Forecast",),
        handler=payroll_coverage.get_payroll_coverage,
    ),
)

BILLING_MONTH_OPERATIONS: tuple[Operation, ...] = (
    Operation(
        "GetBillingReadiness",
        "GET",
        "v1/billing/readiness",
        "Check billing readiness",
        "Every site the month's billing run will bill and what would stop it: no GP customer, no billing "
        "e-mail, an inactive GL string or account, a closed fiscal period, no contract, or (arrears sites) no "
        "revenue submission ready. Ask it before the first-of-month run.",
        Role.READ,
        query=billing_models.BillingReadinessQuery,
        replies=(
            Reply(200, "The billed sites, each with its blockers.", billing_models.BillingReadiness),
            Reply(503, "GP is not configured, or a dependency is unavailable."),
        ),
        tags=("Billing",),
        handler=billing.get_billing_readiness,
    ),
    Operation(
        "GetBillingReconciliation",
        "GET",
        "v1/billing/reconciliation",
        "Reconcile a billing month",
        "Each invoice of the month's statements beside GP's documents, amounts, payment status and audit "
        "trail, and every difference: sent but not in GP, in GP twice, amounts that differ, posted with no "
        "statement. Send Accept: text/csv for a CSV file of the same lines.",
        Role.READ,
        query=billing_models.BillingMonthQuery,
        replies=(
            Reply(200, "The month's lines and differences.", billing_models.BillingReconciliation),
            Reply(503, "GP is not configured, or a dependency is unavailable."),
        ),
        tags=("Billing",),
        produces=("text/csv",),
        handler=billing.get_billing_reconciliation,
    ),
)

LEAD_OPERATIONS: tuple[Operation, ...] = (
    Operation(
        "CaptureLead",
        "POST",
        "v1/leads",
        "Capture a lead",
        "Queues a web form's or marketing tool's lead for Salesforce, where it is found by email and company "
        "and updated, or created. The body must be signed: X-Hub-Timestamp (Unix seconds, within 5 minutes) "
        "and X-Hub-Signature: sha256=<hex HMAC-SHA256 of '<timestamp>.<body>' with the lead capture key>. "
        "The same Idempotency-Key answers the same capture and queues nothing again.",
        None,  # the signature, not an Entra role, says who may post: web forms hold no Entra identity
        body=LeadSubmission,
        replies=(
            Reply(202, "Queued for Salesforce.", LeadReceipt),
            Reply(401, "The signature or its timestamp was refused; nothing was stored."),
            Reply(409, "The Idempotency-Key was used before for another lead."),
            Reply(503, "Lead capture is not configured, or a dependency is unavailable."),
        ),
        changes_state=True,
        tags=("Leads",),
        handler=leads.capture_lead,
    ),
)

PIPELINE_OPERATIONS: tuple[Operation, ...] = (
    Operation(
        "GetPipeline",
        "GET",
        "v1/pipeline",
        "Get the weighted pipeline",
        "The Salesforce pipeline by stage, region and expected opening month: each group's opportunities, "
        "amount and weighted amount (amount x probability), as the EDW's TP_STAGE holds it for Power BI "
        "(refreshed after each hourly Salesforce sync). Filter by stage, region or month.",
        Role.READ,
        query=pipeline_models.PipelineQuery,
        replies=(
            Reply(200, "The pipeline's groups.", pipeline_models.PipelineReport),
            Reply(503, "The EDW is not configured, or a dependency is unavailable."),
        ),
        tags=("Leads",),
        handler=pipeline.get_pipeline,
    ),
    Operation(
        "MapOpportunitySite",
        "PUT",
        "v1/salesforce/opportunities/{id}/site",
        "Map an opportunity to its site",
        "Links a Salesforce Opportunity to an existing customer site when its own site number is missing or "
        "wrong, so the sale and the EDW's site are one site: the site gets the Opportunity's link, a proforma "
        "site the sale made under another number is retired, and the proforma-sites sync keeps the mapping. "
        "Admin: it merges customer sites, which billing and the forecast key on.",
        Role.ADMIN,
        path=site_mapping_models.OpportunityPath,
        body=site_mapping_models.SiteMapping,
        replies=(
            Reply(200, "Mapped.", site_mapping_models.SiteMappingView),
            Reply(404, "No such synced Opportunity, or no open or proforma site with that number."),
            Reply(409, "The sale's proforma site is billed already: a person merges the two."),
            Reply(503, "Salesforce is not configured, or a dependency is unavailable."),
        ),
        changes_state=True,
        tags=("Leads",),
        handler=site_mappings.map_opportunity_site,
    ),
)

LIVE_READ_OPERATION = Operation(
    "LiveRead",
    "GET",
    "v1/edw/{name}",
    "Read the EDW",
    "One live read of the EDW; each read has its own operation in the OpenAPI document.",
    Role.READ,
    path=models.LiveReadPath,
    tags=("EDW",),
    handler=live_reads.live_read,
)

HEALTH_OPERATIONS: tuple[Operation, ...] = (
    Operation(
        "GetHealth",
        "GET",
        "health",
        "Check liveness",
        "200 while the app answers; it calls no dependency (readiness does), so a platform probe may call "
        "it often and anonymously.",
        None,
        auth_level="anonymous",
        replies=(Reply(200, "The app is up.", models.Liveness),),
        tags=("Health",),
        handler=health.get_health,
    ),
    Operation(
        "GetReadiness",
        "GET",
        "health/ready",
        "Check readiness",
        "Each dependency with its own check's latency, and each downstream circuit breaker; 503 when any is "
        "down or open. Keyed: the answer names the hub's downstream hosts and their errors.",
        Role.READ,
        replies=(Reply(200, "Ready.", models.Readiness), Reply(503, "Not ready.", models.Readiness)),
        tags=("Health",),
        handler=health.get_readiness,
    ),
    Operation(
        "GetOpenApi",
        "GET",
        "v1/openapi.json",
        "Get the API description",
        "This document: OpenAPI 2.0, importable as a Power Platform custom connector.",
        None,
        auth_level="anonymous",
        replies=(Reply(200, "The OpenAPI 2.0 document.", raw=True),),
        tags=("Health",),
        handler=health.get_openapi,
    ),
)


SERVED_OPERATIONS: tuple[Operation, ...] = (
    *SYNC_OPERATIONS,
    *GP_OPERATIONS,
    *BUDGET_OPERATIONS,
    *BILLING_OPERATIONS,
    *FORECAST_OPERATIONS,
    *BILLING_MONTH_OPERATIONS,
    *LEAD_OPERATIONS,
    *PIPELINE_OPERATIONS,
    LIVE_READ_OPERATION,
    *HEALTH_OPERATIONS,
)


def live_read_operations(reads: Sequence[LiveRead]) -> tuple[Operation, ...]:
    """One documented operation per live read, served by the one ``v1/edw/{name}`` trigger."""
    return tuple(
        Operation(
            "Read" + "".join(part.capitalize() for part in read.name.replace("_", "-").split("-")),
            "GET",
            f"v1/edw/{read.name}",
            read.summary,
            f"{read.description} Answers are cached for {read.cache_seconds} s.",
            Role.READ,
            query=read.params,
            replies=(
                Reply(200, "The rows.", _rows_model(read), (_ETAG,)),
                Reply(304, "Unchanged since the ETag sent in If-None-Match."),
            ),
            tags=("EDW",),
            handler=live_reads.live_read,  # through the one ``v1/edw/{name}`` route
        )
        for read in reads
    )


def _rows_model(read: LiveRead) -> type[BaseModel]:
    name = "".join(part.capitalize() for part in read.name.replace("_", "-").split("-")) + "Rows"
    rows = Field(title="Rows", description=read.row.__doc__ or f"The rows of {read.name}.")
    model: type[BaseModel] = create_model(name, value=(list[read.row], rows))  # type: ignore[name-defined]
    return model


def documented_operations(reads: Sequence[LiveRead]) -> tuple[Operation, ...]:
    """What the OpenAPI document lists: every operation, with each live read spelled out."""
    return (
        *SYNC_OPERATIONS,
        *GP_OPERATIONS,
        *BUDGET_OPERATIONS,
        *BILLING_OPERATIONS,
        *FORECAST_OPERATIONS,
        *BILLING_MONTH_OPERATIONS,
        *LEAD_OPERATIONS,
        *PIPELINE_OPERATIONS,
        *PIPELINE_OPERATIONS,
        *live_read_operations(reads),
        *HEALTH_OPERATIONS,
    )
