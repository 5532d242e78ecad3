"""The API's inputs and outputs as pydantic models: handlers validate with them, OpenAPI is built from them.

Names travel in camelCase, as Power Automate makers see them. Inputs refuse
unknown fields and wrong types. Outputs leave out what is unknown rather than
sending ``null``, so a connector's schema has no nullable fields to trip on.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer, model_validator
from pydantic.alias_generators import to_camel

from shared.query_values import QueryBool, QueryDateTime, QueryInt

RUN_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,199}$"
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$"
RunState = Literal[
    "queued", "running", "retrying", "loading", "succeeded", "partially_failed", "failed", "dead_lettered"
]
GUID_PATTERN = r"^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$"
PERIOD_PATTERN = r"^20\d{2}-(0[1-9]|1[0-2])$"  # 2000-01 to 2099-12, the months the hub knows (shared.sites)
GpPostingState = Literal[
    "queued", "running", "retrying", "succeeded", "partially_failed", "failed", "refused", "dead_lettered"
]


class ApiModel(BaseModel):
    # defer_build: a model's validator is built on its first use, not when the app is indexed (the
    # operations table, and so every cold start, imports them all; most requests use two or three).
    model_config = ConfigDict(
        alias_generator=to_camel,
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
        defer_build=True,
    )


class ApiInput(ApiModel):
    """Callers must use the camelCase names; a snake_case twin would be an unknown field.

    Values are taken as sent: no trimming, and query numbers and times only in the document's form.
    """

    model_config = ConfigDict(extra="forbid", validate_by_name=False)


# Inputs


class StreamPath(ApiInput):
    stream: str = Field(
        pattern=NAME_PATTERN, title="Stream", description="The stream's name, as GET /v1/syncs lists it."
    )


class RunPath(ApiInput):
    id: str = Field(
        pattern=RUN_ID_PATTERN, title="Run ID", description="The run's id, from Location or a run list."
    )


class QueuePath(ApiInput):
    queue: str = Field(
        pattern=NAME_PATTERN,
        title="Queue",
        description="The queue: sync-requests, batch-loads, gp-postings or dataverse-events.",
    )


class DeadLetterPath(QueuePath):
    message_id: str = Field(
        min_length=1, max_length=128, title="Message ID", description="The dead letter's message id."
    )


class LiveReadPath(ApiInput):
    name: str = Field(pattern=NAME_PATTERN, title="Read", description="The live read's name.")


class SyncStart(ApiInput):
    """What to sync; a plain POST with no body runs an incremental sync."""

    mode: Literal["incremental", "full", "backfill", "replay"] = Field(
        "incremental",
        title="Mode",
        description="incremental: from the watermark; full: everything; backfill: windowStart..windowEnd; "
        "replay: resend the staged batches of run replayOf.",
    )
    window_start: str | None = Field(
        None,
        max_length=40,
        title="Window Start",
        description="Backfill only: first cursor value (a date, time or number), included.",
    )
    window_end: str | None = Field(
        None,
        max_length=40,
        title="Window End",
        description="Backfill only: cursor value to stop before, excluded.",
    )
    replay_of: str | None = Field(
        None,
        pattern=RUN_ID_PATTERN,
        title="Replay Of",
        description="Replay only: the run whose batches to resend.",
    )


class GpPostingPath(ApiInput):
    id: str = Field(
        pattern=RUN_ID_PATTERN, title="Posting ID", description="The GP posting's id, from Location."
    )


class GpPostingStart(ApiInput):
    """What to post to Great Plains: a billing statement, or a month's unit statistics; exactly one."""

    statement_id: str | None = Field(
        None,
        pattern=GUID_PATTERN,
        title="Statement ID",
        description="The bs_billingstatement's id: its invoices (and parking tax) are posted to GP.",
    )
    unit_statistics_period: str | None = Field(
        None,
        pattern=PERIOD_PATTERN,
        title="Unit Statistics Month",
        description="A month as yyyy-MM: its unit statistics are posted to GP as journals.",
    )

    @model_validator(mode="after")
    def _exactly_one(self) -> GpPostingStart:
        if (self.statement_id is None) == (self.unit_statistics_period is None):
            raise ValueError("give exactly one of statementId and unitStatisticsPeriod")
        return self


class StatementPath(ApiInput):
    id: str = Field(pattern=GUID_PATTERN, title="Statement ID", description="The bs_billingstatement's id.")


class ForecastCheckQuery(ApiInput):
    apply: QueryBool = Field(
        False,
        title="Apply",
        description="true: also set the statement's status to the decision, if nobody changed it since "
        "it was read (If-Match, or the ETag this check read).",
    )


class RunQuery(ApiInput):
    stream: str | None = Field(
        None, pattern=NAME_PATTERN, title="Stream", description="Only this stream's runs."
    )
    status: RunState | None = Field(None, title="Status", description="Only runs in this state.")
    since: QueryDateTime | None = Field(
        None, title="Since", description="Only runs started at or after this time (ISO 8601)."
    )
    top: QueryInt = Field(50, ge=1, le=200, title="Page Size", description="Runs per page.")
    continuation_token: str | None = Field(
        None,
        max_length=400,
        title="Continuation Token",
        description="From the previous page's continuationToken.",
    )


class DeadLetterQuery(ApiInput):
    top: QueryInt = Field(50, ge=1, le=200, title="Page Size", description="Dead letters per page.")
    continuation_token: str | None = Field(
        None,
        pattern=r"^h?[0-9]{1,19}$",
        title="Continuation Token",
        description="From the previous page's continuationToken.",
    )


# Outputs

ADVANCED: dict[str, Any] = {"x-ms-visibility": "advanced"}  # shown under "Show advanced options" in a flow


def _cursor_text(value: object) -> object:
    """A cursor or key value as text: ISO 8601 for dates and times, JSON's words for numbers and booleans."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, int | float | Decimal):
        return str(value)
    return value


# A cursor value (a date, a time or a number) travels as text, so a connector's schema has one type for it.
CursorValue = Annotated[str, BeforeValidator(_cursor_text)]


class ExtractCountsView(ApiModel):
    """What extraction did with the source's rows; ``read = valid + quarantined``, and
    ``staged = valid - skipped - unchanged``."""

    read: int = Field(description="Rows read from the source.")
    valid: int = Field(description="Rows that passed the stream's validation.")
    quarantined: int = Field(
        description="Rows refused by validation, kept aside with their reasons (quarantinePath); never loaded."
    )
    skipped: int = Field(
        description="Valid rows the stream's own rule leaves out (its transform drops them); never loaded."
    )
    unchanged: int = Field(
        description="Valid rows whose content matches what an earlier run already sent (incremental runs "
        "only); not sent again."
    )
    staged: int = Field(description="Records staged for loading as upserts.")
    deletes_staged: int = Field(
        title="Deletes Staged",
        description="Records staged for deletion: keys an earlier full read sent that the source no longer has.",
    )


class ChangeTrackingView(ApiModel):
    """How a change-tracked stream read SQL Server: from which change version to which, and whether in full."""

    version_before: int | None = Field(None, description="The change version the run read from.")
    version_after: int | None = Field(
        None, description="The version it read up to: the next run starts here."
    )
    changes_read: int = Field(description="Changed rows the change table reported.")
    fell_back_to_full_read: bool = Field(description="True when the run read the whole table instead.")
    reason: str | None = Field(
        None, description="Why it read in full: no version yet, the version expired, or a full read was due."
    )


class LoadCountsView(ApiModel):
    """What the target did with the staged records; each record is counted once, under one outcome."""

    batches_loaded: int = Field(title="Batches Loaded", description="Staged batches loaded so far.")
    upserted: int = Field(
        description="Records written by one upsert by alternate key (conflict policy source_wins): created "
        "or updated, Dataverse does not say which."
    )
    created: int = Field(description="Records that had no row, created (conflict policy skip_if_changed).")
    updated: int = Field(
        description="Records whose row was changed, guarded by its ETag (conflict policy skip_if_changed)."
    )
    unchanged: int = Field(
        description="Records whose row already held these values; no write was sent. Not the same as "
        "extract.unchanged, which never reached the target."
    )
    deleted: int = Field(description="Rows deleted by key.")
    rejected: int = Field(
        description="Records the target refused (a 400: a value it does not accept); see problems."
    )
    conflicts: int = Field(
        description="Records not written because the row changed in Dataverse since it was read, or appeared "
        "meanwhile; see problems."
    )
    not_found: int = Field(
        title="Not Found", description="Updates or deletes whose row no longer exists; see problems."
    )


class BatchesView(ApiModel):
    staged: int = Field(description="Batches extraction staged so far.")
    loaded: int = Field(description="Batches loaded into the target so far.")
    expected: int | None = Field(None, description="Known once extraction ends.")


class RecordProblemView(ApiModel):
    batch_id: str = Field(title="Batch ID", description="The staged batch the record was in.")
    key: list[CursorValue | None] = Field(description="The record's key values, in the stream's key order.")
    outcome: str = Field(
        description="What the target did with the record: rejected, conflict or not_found; updated or "
        "unchanged when it kept Dataverse-owned fields (message names them)."
    )
    status: int = Field(description="The HTTP status the target answered for the record.")
    error_code: str | None = Field(None, description="The target's own error code, when it gave one.")
    message: str | None = Field(None, description="The target's explanation, secrets removed.")


class Run(ApiModel):
    """One sync run; ``status`` is final once it is succeeded, partially_failed, failed or dead_lettered."""

    id: str = Field(title="Run ID", description="The run's id: poll GET /v1/runs/{id} with it.")
    stream: str = Field(description="The stream the run syncs.")
    mode: str = Field(description="incremental, full, backfill or replay.")
    trigger: str = Field(
        description="What started the run: api when this API queued it, else its timer or the CLI.",
        json_schema_extra=ADVANCED,
    )
    status: RunState = Field(
        description="Where the run is: final once succeeded, partially_failed, failed or dead_lettered."
    )
    queued_at: datetime | None = Field(
        None, description="When the run was queued (UTC).", json_schema_extra=ADVANCED
    )
    started_at: datetime | None = Field(None, description="When a worker began reading the source (UTC).")
    extract_finished_at: datetime | None = Field(
        None, description="When reading and staging ended (UTC).", json_schema_extra=ADVANCED
    )
    finished_at: datetime | None = Field(None, description="When the last batch was loaded (UTC).")
    window_start: CursorValue | None = Field(
        None,
        description="The first cursor value read, included: a date, time or number as text.",
        json_schema_extra=ADVANCED,
    )
    window_end: CursorValue | None = Field(
        None, description="The cursor value the read stopped before, excluded.", json_schema_extra=ADVANCED
    )
    watermark_before: CursorValue | None = Field(
        None, description="The stream's watermark when the run began.", json_schema_extra=ADVANCED
    )
    watermark_after: CursorValue | None = Field(
        None, description="The stream's watermark once the run loaded.", json_schema_extra=ADVANCED
    )
    extract: ExtractCountsView | None = Field(None, description="What reading the source found, row by row.")
    change_tracking: ChangeTrackingView | None = Field(
        None,
        description="How a stream that reads SQL Server change tracking read this time.",
        json_schema_extra=ADVANCED,
    )
    load: LoadCountsView | None = Field(None, description="What writing to the target did, row by row.")
    batches: BatchesView | None = Field(
        None,
        description="Batches staged and loaded: progress while the run loads.",
        json_schema_extra=ADVANCED,
    )
    quarantined_rows: int = Field(
        0, description="Rows refused by validation and kept aside with their reasons."
    )
    quarantine_path: str | None = Field(
        None,
        description="Where the quarantined rows and their reasons are stored.",
        json_schema_extra=ADVANCED,
    )
    problems: list[RecordProblemView] | None = Field(
        None,
        description="Records the target refused, and records whose Dataverse-owned fields it kept (first 100).",
        json_schema_extra=ADVANCED,
    )
    error_class: str | None = Field(
        None, description="config, auth, transient, throttled, conflict, busy, permanent or bad_record."
    )
    error_message: str | None = Field(None, description="Why the run failed, in words; secrets removed.")
    replay_of: str | None = Field(
        None, description="The run whose staged batches this run resent.", json_schema_extra=ADVANCED
    )
    attempts: int = Field(
        0, description="How many times a worker has claimed the run.", json_schema_extra=ADVANCED
    )
    next_attempt_at: datetime | None = Field(
        None, description="When a retrying run is tried again.", json_schema_extra=ADVANCED
    )


class RunPage(ApiModel):
    value: list[Run] = Field(title="Runs", description="The runs on this page, newest first.")
    continuation_token: str | None = Field(
        None,
        description="Send it back as continuationToken for the next page; absent on the last.",
        json_schema_extra=ADVANCED,
    )
    next_link: str | None = Field(
        None, description="The absolute URL of the next page; absent on the last.", json_schema_extra=ADVANCED
    )


class Sync(ApiModel):
    """A stream the hub syncs, with its schedule and how far it has got."""

    stream: str = Field(description="The stream's name: what StartSync and ListRuns take.")
    target: str = Field(description="The Dataverse entity set it writes.")
    cursor: str | None = Field(
        None,
        description="The column incremental runs read from; absent for full reads.",
        json_schema_extra=ADVANCED,
    )
    schedule: str | None = Field(
        None, description="NCRONTAB schedule of the timer that starts it, when it has one."
    )
    watermark: CursorValue | None = Field(
        None, description="The highest cursor value loaded so far, as text.", json_schema_extra=ADVANCED
    )
    lag_seconds: int | None = Field(
        None, description="Seconds from the watermark to now, when the cursor is a time."
    )
    last_run_id: str | None = Field(
        None, title="Last Run ID", description="The stream's latest run, to poll."
    )
    last_run_status: RunState | None = Field(None, description="The latest run's status.")
    last_run_started_at: datetime | None = Field(None, description="When the latest run started (UTC).")


class GpDocumentResult(ApiModel):
    """One GP document of a posting and what GP made of it."""

    key: str = Field(description="The hub's key for the document: the same document always has the same key.")
    document_number: str = Field(description="The GP document number, or the journal's reference.")
    map: str = Field(
        title="SmartConnect Map",
        description="The SmartConnect map: RMIMPV2 (receivables), PMIMPV2 (payables), GLIMP.",
        json_schema_extra=ADVANCED,
    )
    company: str = Field(description="The GP company (database) the document went to.")
    batch_id: str = Field(title="Batch ID", description="The GP batch the document was posted in.")
    status: Literal["posted", "duplicate", "refused", "rejected"] = Field(
        description="posted; duplicate (GP had it already, not sent again); refused by the hub before GP; "
        "rejected by GP."
    )
    message: str | None = Field(None, description="The refusal's reason or SmartConnect's words.")


class GpPosting(ApiModel):
    """One GP posting request; ``status`` is final once it is succeeded, partially_failed, failed or refused."""

    id: str = Field(
        title="Posting ID", description="The posting's id: poll GET /v1/gp/postings/{id} with it."
    )
    status: GpPostingState = Field(
        description="Where the posting is: final once succeeded, partially_failed, failed, refused or dead_lettered."
    )
    statement_id: str | None = Field(
        None, title="Statement ID", description="The billing statement posted, for an invoice posting."
    )
    unit_statistics_period: str | None = Field(
        None,
        title="Unit Statistics Month",
        description="The month (yyyy-MM) posted, for a statistics posting.",
    )
    trigger: str = Field(
        description="api; sweep when the hub found the statement itself; event when a Dataverse event "
        "started it.",
        json_schema_extra=ADVANCED,
    )
    requested_by: str | None = Field(
        None,
        description="Who asked for it: a key digest or an Entra ID object id.",
        json_schema_extra=ADVANCED,
    )
    created_at: datetime = Field(description="When the posting was requested (UTC).")
    updated_at: datetime = Field(
        description="When its status last changed (UTC).", json_schema_extra=ADVANCED
    )
    attempts: int = Field(
        description="Deliveries that worked on it (a redelivery after GP was down adds one).",
        json_schema_extra=ADVANCED,
    )
    documents: list[GpDocumentResult] = Field(
        default_factory=list, description="Each GP document of the posting and its outcome."
    )
    refusals: list[str] = Field(
        default_factory=list, description="Why documents or the whole request were refused."
    )
    report: str | None = Field(
        None,
        description="Refused statistics: the HTML table of inactive accounts.",
        json_schema_extra=ADVANCED,
    )
    last_error: str | None = Field(
        None, description="The last failure: what a retrying posting waits out, or why it was dead-lettered."
    )
    next_attempt_at: datetime | None = Field(
        None, description="When a retrying posting is tried again.", json_schema_extra=ADVANCED
    )


class SyncList(ApiModel):
    value: list[Sync] = Field(title="Streams", description="Every stream the hub syncs, by name.")


class DeadLetter(ApiModel):
    message_id: str = Field(
        title="Message ID", description="The message's id: what Resubmit and Discard take."
    )
    sequence_number: int = Field(
        description="The queue's number for the message; pages are in this order.", json_schema_extra=ADVANCED
    )
    enqueued_time: datetime | None = Field(None, description="When the message was first queued (UTC).")
    delivery_count: int = Field(
        description="How many times the message was delivered before it was given up on."
    )
    reason: str | None = Field(None, description="Why the message was dead-lettered, as a short code.")
    description: str | None = Field(None, description="The dead-lettering's explanation in words.")
    correlation_id: str | None = Field(
        None,
        title="Correlation ID",
        description="The id that finds the message's work in the logs.",
        json_schema_extra=ADVANCED,
    )
    subject: str | None = Field(
        None, description="What the message is about, as its sender labelled it.", json_schema_extra=ADVANCED
    )
    properties: dict[str, CursorValue] = Field(
        default_factory=dict,
        title="Application Properties",
        description="The message's application properties, each value as text.",
        json_schema_extra=ADVANCED,
    )
    body: str = Field(description="The message body as text (JSON for the hub's own messages).")


class DeadLetterPage(ApiModel):
    value: list[DeadLetter] = Field(
        title="Dead Letters", description="The dead letters on this page, oldest first."
    )
    continuation_token: str | None = Field(
        None,
        description="Send it back as continuationToken for the next page; absent on the last.",
        json_schema_extra=ADVANCED,
    )
    next_link: str | None = Field(
        None, description="The absolute URL of the next page; absent on the last.", json_schema_extra=ADVANCED
    )


class Liveness(ApiModel):
    status: Literal["ok"] = Field(description="Always ok: an answer at all means the app is up.")


class DependencyView(ApiModel):
    status: Literal["ok", "down"] = Field(description="ok when the dependency answered in time.")
    detail: str = Field(description="ok, or why the check failed (the error's first line, or no answer).")
    ms: int = Field(title="Milliseconds", description="How long this dependency's own check took.")


class Readiness(ApiModel):
    status: Literal["ok", "down"] = Field(
        description="ok when every dependency is up and no circuit is open."
    )
    dependencies: dict[str, DependencyView] = Field(description="Each dependency's check, by name.")
    circuits: dict[str, str] = Field(
        description="Each downstream host's circuit breaker: closed, open or half_open."
    )


# Money and percentages are exact Decimals inside the hub and JSON numbers on the wire, as a flow reads them.
Amount = Annotated[Decimal, PlainSerializer(float, return_type=float, when_used="json")]

StatementStatusName = Literal[
    "GENERATING", "NEEDS_REVIEW", "APPROVED", "SENT", "AR_REVIEW", "APPROVAL_TEAM", "READY_TO_SEND", "FAILED"
]


class ForecastCheckResult(ApiModel):
    """A statement against the forecast: both figures, the contract's thresholds, and where it goes."""

    statement_id: str = Field(title="Statement ID", description="The bs_billingstatement checked.")
    site_number: str = Field(title="Site", description="The statement's site, four digits.")
    period: str = Field(title="Period", description="The statement's service month, yyyyMM.")
    statement_amount: Amount = Field(
        title="Statement Amount", description="The sum of the statement's invoice amounts (USD)."
    )
    forecast_amount: Amount = Field(
        title="Forecast Amount",
        description="The forecast's internal revenue for the site and month (FD_BALANCE).",
    )
    forecast_source: Literal["hub", "edw"] = Field(
        title="Forecast Source",
        description="hub: the hub's latest calculated forecast (vwHUB_FORECAST_CONSOLIDATED); edw: today's "
        "vwFORECAST_CONSOLIDATED, for a site the hub has not calculated yet.",
    )
    deviation_amount: Amount = Field(title="Deviation Amount", description="|statement - forecast| in USD.")
    deviation_percent: Amount = Field(
        title="Deviation %", description="The deviation as a percentage of the forecast, to 0.01."
    )
    threshold_percent: Amount = Field(
        title="Threshold %", description="The contract's bs_deviationpercentage."
    )
    threshold_amount: Amount = Field(
        title="Threshold Amount", description="The contract's bs_deviationamount (USD)."
    )
    decision: StatementStatusName = Field(
        title="Decision",
        description="APPROVAL_TEAM when both thresholds are passed, AR_REVIEW for an arrears site whose "
        "revenue submission has comments, otherwise READY_TO_SEND.",
    )
    decision_value: int = Field(
        title="Decision Value", description="The decision as bs_statementstatus's option value."
    )
    reason: str = Field(title="Reason", description="Why, in words an Account Manager reads.")
    applied: bool = Field(
        title="Applied", description="Whether the statement's status was set to the decision."
    )
    previous_status: StatementStatusName | None = Field(
        None, title="Previous Status", description="The statement's status before this check."
    )
    etag: str = Field(
        title="ETag",
        description="The statement's ETag as read (or after the update, when applied): send it as If-Match "
        "to apply this decision later only if nobody changed the statement meanwhile.",
        json_schema_extra=ADVANCED,
    )
