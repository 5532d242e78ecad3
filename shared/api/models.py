"""The API's inputs and outputs as pydantic models: handlers validate with them, OpenAPI is built from them.

Names travel in camelCase, as Power Automate makers see them. Inputs refuse
unknown fields and wrong types. Outputs leave out what is unknown rather than
sending ``null``, so a connector's schema has no nullable fields to trip on.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic.alias_generators import to_camel

RUN_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,199}$"
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$"
RunState = Literal[
    "queued", "running", "retrying", "loading", "succeeded", "partially_failed", "failed", "dead_lettered"
]
GUID_PATTERN = r"^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$"
PERIOD_PATTERN = r"^\d{4}-(0[1-9]|1[0-2])$"
GpPostingState = Literal[
    "queued", "running", "retrying", "succeeded", "partially_failed", "failed", "refused", "dead_lettered"
]


class ApiModel(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel, validate_by_name=True, validate_by_alias=True, serialize_by_alias=True
    )


class ApiInput(ApiModel):
    """Callers must use the camelCase names; a snake_case twin would be an unknown field."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, validate_by_name=False)


# Inputs


class StreamPath(ApiInput):
    stream: str = Field(
        pattern=NAME_PATTERN, title="Stream", description="The stream's name, as GET /v1/syncs lists it."
    )


class RunPath(ApiInput):
    id: str = Field(
        pattern=RUN_ID_PATTERN, title="Run id", description="The run's id, from Location or a run list."
    )


class QueuePath(ApiInput):
    queue: str = Field(
        pattern=NAME_PATTERN,
        title="Queue",
        description="The queue: sync-requests, batch-loads, gp-postings or dataverse-events.",
    )


class DeadLetterPath(QueuePath):
    message_id: str = Field(
        min_length=1, max_length=128, title="Message id", description="The dead letter's message id."
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
        title="Window start",
        description="Backfill only: first cursor value (a date, time or number), included.",
    )
    window_end: str | None = Field(
        None,
        max_length=40,
        title="Window end",
        description="Backfill only: cursor value to stop before, excluded.",
    )
    replay_of: str | None = Field(
        None,
        pattern=RUN_ID_PATTERN,
        title="Replay of",
        description="Replay only: the run whose batches to resend.",
    )


class GpPostingPath(ApiInput):
    id: str = Field(
        pattern=RUN_ID_PATTERN, title="Posting id", description="The GP posting's id, from Location."
    )


class GpPostingStart(ApiInput):
    """What to post to Great Plains: a billing statement, or a month's unit statistics; exactly one."""

    statement_id: str | None = Field(
        None,
        pattern=GUID_PATTERN,
        title="Statement",
        description="The bs_billingstatement's id: its invoices (and parking tax) are posted to GP.",
    )
    unit_statistics_period: str | None = Field(
        None,
        pattern=PERIOD_PATTERN,
        title="Unit statistics month",
        description="A month as yyyy-MM: its unit statistics are posted to GP as journals.",
    )

    @model_validator(mode="after")
    def _exactly_one(self) -> GpPostingStart:
        if (self.statement_id is None) == (self.unit_statistics_period is None):
            raise ValueError("give exactly one of statementId and unitStatisticsPeriod")
        return self


class RunQuery(ApiInput):
    stream: str | None = Field(
        None, pattern=NAME_PATTERN, title="Stream", description="Only this stream's runs."
    )
    status: RunState | None = Field(None, title="Status", description="Only runs in this state.")
    since: datetime | None = Field(
        None, title="Since", description="Only runs started at or after this time (ISO 8601)."
    )
    top: int = Field(50, ge=1, le=200, title="Page size", description="Runs per page.")
    continuation_token: str | None = Field(
        None,
        max_length=400,
        title="Continuation token",
        description="From the previous page's continuationToken.",
    )


class DeadLetterQuery(ApiInput):
    top: int = Field(50, ge=1, le=200, title="Page size", description="Dead letters per page.")
    continuation_token: str | None = Field(
        None,
        pattern=r"^h?[0-9]{1,19}$",
        title="Continuation token",
        description="From the previous page's continuationToken.",
    )


# Outputs


class ExtractCountsView(ApiModel):
    read: int
    valid: int
    quarantined: int
    skipped: int
    unchanged: int
    staged: int
    deletes_staged: int


class LoadCountsView(ApiModel):
    batches_loaded: int
    upserted: int
    created: int
    updated: int
    unchanged: int
    deleted: int
    rejected: int
    conflicts: int
    not_found: int


class BatchesView(ApiModel):
    staged: int = Field(description="Batches extraction staged so far.")
    loaded: int = Field(description="Batches loaded into the target so far.")
    expected: int | None = Field(None, description="Known once extraction ends.")


class RecordProblemView(ApiModel):
    batch_id: str
    key: list[Any]
    outcome: str
    status: int
    error_code: str | None = None
    message: str | None = None


class Run(ApiModel):
    """One sync run; ``status`` is final once it is succeeded, partially_failed, failed or dead_lettered."""

    id: str
    stream: str
    mode: str
    trigger: str
    status: RunState
    queued_at: datetime | None = None
    started_at: datetime | None = None
    extract_finished_at: datetime | None = None
    finished_at: datetime | None = None
    window_start: Any = Field(None, description="The cursor range read: a date, time or number.")
    window_end: Any = None
    watermark_before: Any = None
    watermark_after: Any = None
    extract: ExtractCountsView | None = None
    load: LoadCountsView | None = None
    batches: BatchesView | None = None
    quarantined_rows: int = Field(
        0, description="Rows refused by validation and kept aside with their reasons."
    )
    quarantine_path: str | None = None
    problems: list[RecordProblemView] | None = Field(
        None, description="Records the target refused (first 100)."
    )
    error_class: str | None = Field(
        None, description="config, auth, transient, throttled, conflict, busy, permanent or bad_record."
    )
    error_message: str | None = None
    replay_of: str | None = None
    attempts: int = Field(0, description="How many times a worker has claimed the run.")
    next_attempt_at: datetime | None = Field(None, description="When a retrying run is tried again.")


class RunPage(ApiModel):
    value: list[Run]
    continuation_token: str | None = None
    next_link: str | None = None


class Sync(ApiModel):
    """A stream the hub syncs, with its schedule and how far it has got."""

    stream: str
    target: str = Field(description="The Dataverse entity set it writes.")
    cursor: str | None = Field(
        None, description="The column incremental runs read from; absent for full reads."
    )
    schedule: str | None = Field(
        None, description="NCRONTAB schedule of the timer that starts it, when it has one."
    )
    watermark: Any = Field(None, description="The highest cursor value loaded so far.")
    lag_seconds: int | None = Field(
        None, description="Seconds from the watermark to now, when the cursor is a time."
    )
    last_run_id: str | None = None
    last_run_status: RunState | None = None
    last_run_started_at: datetime | None = None


class GpDocumentResult(ApiModel):
    """One GP document of a posting and what GP made of it."""

    key: str = Field(description="The hub's key for the document: the same document always has the same key.")
    document_number: str = Field(description="The GP document number, or the journal's reference.")
    map: str = Field(description="The SmartConnect map: RMIMPV2 (receivables), PMIMPV2 (payables), GLIMP.")
    company: str
    batch_id: str
    status: Literal["posted", "duplicate", "refused", "rejected"] = Field(
        description="posted; duplicate (GP had it already, not sent again); refused by the hub before GP; "
        "rejected by GP."
    )
    message: str | None = Field(None, description="The refusal's reason or SmartConnect's words.")


class GpPosting(ApiModel):
    """One GP posting request; ``status`` is final once it is succeeded, partially_failed, failed or refused."""

    id: str
    status: GpPostingState
    statement_id: str | None = None
    unit_statistics_period: str | None = None
    trigger: str = Field(
        description="api; sweep when the hub found the statement itself; event when a Dataverse event started it."
    )
    requested_by: str | None = None
    created_at: datetime
    updated_at: datetime
    attempts: int = Field(
        description="Deliveries that worked on it (a redelivery after GP was down adds one)."
    )
    documents: list[GpDocumentResult] = Field(default_factory=list)
    refusals: list[str] = Field(
        default_factory=list, description="Why documents or the whole request were refused."
    )
    report: str | None = Field(None, description="Refused statistics: the HTML table of inactive accounts.")
    last_error: str | None = Field(
        None, description="The last failure: what a retrying posting waits out, or why it was dead-lettered."
    )
    next_attempt_at: datetime | None = Field(None, description="When a retrying posting is tried again.")


class SyncList(ApiModel):
    value: list[Sync]


class DeadLetter(ApiModel):
    message_id: str
    sequence_number: int
    enqueued_time: datetime | None = None
    delivery_count: int
    reason: str | None = None
    description: str | None = None
    correlation_id: str | None = None
    subject: str | None = None
    properties: dict[str, str | int | float | bool] = Field(default_factory=dict)
    body: str


class DeadLetterPage(ApiModel):
    value: list[DeadLetter]
    continuation_token: str | None = None
    next_link: str | None = None


class DependencyView(ApiModel):
    status: Literal["ok", "down"]
    detail: str
    ms: int


class Readiness(ApiModel):
    status: Literal["ok", "down"]
    dependencies: dict[str, DependencyView]
    circuits: dict[str, str] = Field(
        description="Each downstream host's circuit breaker: closed, open or half_open."
    )
