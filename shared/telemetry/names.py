"""Every name the hub's telemetry carries, with its unit: the one list ``infra/`` queries are checked against.

An admin's KQL reads these names: ``customMetrics | where name == "hub.sync.rows"``,
``customDimensions["hub.stream"]`` on a span, a metric or a log line. They
are declared here and nowhere else, so a query in a Bicep file that names
something the code does not emit fails a test (``tests/telemetry``) instead
of an alert that never fires. Attribute keys are the same on spans, metric
dimensions and log records, so one filter works on all three.

No attribute carries a secret or a row's content: ids, names, counts,
outcomes and error classes only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

# Attributes: span attributes, metric dimensions and log custom dimensions alike.
STREAM = "hub.stream"
RUN_ID = "hub.run_id"
BATCH_ID = "hub.batch_id"
SYNC_MODE = "hub.sync_mode"
TRIGGER = "hub.trigger"
CORRELATION_ID = "hub.correlation_id"
INVOCATION_ID = "hub.invocation_id"
GP_REQUEST_ID = "hub.gp_request_id"
OUTCOME = "hub.outcome"
ERROR_CLASS = "hub.error_class"
ROW_STAGE = "hub.row_stage"
SYSTEM = "hub.system"
QUEUE = "hub.queue"
OPERATION = "hub.operation"
HTTP_STATUS = "http.response.status_code"
HTTP_METHOD = "http.request.method"
URL_PATH = "url.path"
FUNCTION_NAME = "faas.name"
DB_SYSTEM = "db.system.name"
PROCEDURE = "db.stored_procedure.name"
RECORDS = "hub.records"
ROWS = "hub.rows"
THROTTLED = "hub.throttled"
ATTEMPTS = "hub.attempts"
GP_MAP = "hub.gp_map"
GP_COMPANY = "hub.gp_company"
DOCUMENTS = "hub.documents"
OUTCOMES = "hub.outcomes"  # a prefix: ``hub.outcomes.204`` counts the parts of a $batch answered 204
ENTITY_SET = "hub.entity_set"
EVENT_TYPE = "hub.event_type"
DATAVERSE_MESSAGE = "hub.dataverse_message"  # Create or Update: the step that posted a Dataverse event
DATAVERSE_ENTITY = "hub.dataverse_entity"  # the logical name of the row a Dataverse event is about
BILLING_DIFFERENCE = "hub.billing_difference"  # a reconciliation difference's kind (sent-not-in-gp ...)
BILLING_PERIOD = "hub.billing_period"  # the billing month reconciled, yyyy-MM

# The values ``ROW_STAGE`` takes: a run's counts, as its record keeps them.
ROW_STAGES = ("read", "valid", "quarantined", "skipped", "unchanged", "staged", "loaded", "rejected")

# Spans: what the transaction view of one run shows, outermost first.
SPAN_HTTP_REQUEST = "http request"  # the local host's; in Azure the Functions host writes the request
SPAN_TIMER = "timer"  # likewise, for a timer invocation
SPAN_QUEUE_MESSAGE = "queue message"  # likewise, for a Service Bus trigger's delivery
SPAN_API_CALL = "api call"
SPAN_QUEUE_RUN = "queue run"
SPAN_SYNC_REQUEST = "sync request"
SPAN_EXTRACTION = "extract"
SPAN_SQL_QUERY = "sql query"
SPAN_STAGE_BATCH = "stage batch"
SPAN_BATCH_LOAD = "batch load"
SPAN_DATAVERSE_BATCH = "dataverse $batch"
SPAN_HTTP_CALL = "http call"
SPAN_GP_POSTING = "gp posting"
SPAN_SMARTCONNECT = "smartconnect run map"
SPAN_WATCHDOG = "watchdog sweep"
SPAN_DATAVERSE_EVENT = "dataverse event"
SPAN_RSS_SWEEP = "rss sweep"

MetricKind = Literal["counter", "histogram", "gauge"]


@dataclass(frozen=True)
class Metric:
    """One instrument: its name in ``customMetrics``, its unit (UCUM) and the dimensions it carries."""

    name: str
    kind: MetricKind
    unit: str
    description: str
    dimensions: tuple[str, ...]


ROWS_MOVED = Metric(
    "hub.sync.rows",
    "counter",
    "{row}",
    "Rows a settled run moved, by stage (read, valid, quarantined, staged, loaded, rejected ...).",
    (STREAM, ROW_STAGE, SYNC_MODE),
)
RUNS_SETTLED = Metric(
    "hub.sync.runs",
    "counter",
    "{run}",
    "Runs that reached a final status, by outcome (succeeded, partially_failed, failed, dead_lettered).",
    (STREAM, OUTCOME, SYNC_MODE, TRIGGER),
)
RUN_DURATION = Metric(
    "hub.sync.run.duration",
    "histogram",
    "s",
    "From a run's first claim to its final status.",
    (STREAM, OUTCOME),
)
BATCH_LOAD_DURATION = Metric(
    "hub.sync.batch.duration",
    "histogram",
    "s",
    "Loading one staged batch into its target.",
    (STREAM, OUTCOME),
)
STREAM_LAG = Metric(
    "hub.sync.lag",
    "gauge",
    "s",
    "How far a stream's target is behind: now less its watermark when that is a time, else less its "
    "last settled run.",
    (STREAM,),
)
THROTTLED_REQUESTS = Metric(
    "hub.http.throttled",
    "counter",
    "{request}",
    "Requests a system answered 429 (or 503 with Retry-After).",
    (SYSTEM,),
)
RETRY_WAIT = Metric(
    "hub.http.retry_wait",
    "histogram",
    "s",
    "Each wait before a request was sent again.",
    (SYSTEM,),
)
BREAKER_OPENS = Metric(
    "hub.http.breaker_opens",
    "counter",
    "{open}",
    "A system's circuit breaker opened: calls to it fail at once until it half-opens.",
    (SYSTEM,),
)
DEAD_LETTERED = Metric(
    "hub.messages.dead_lettered",
    "counter",
    "{message}",
    "Messages set aside for an operator, by queue and error class.",
    (QUEUE, ERROR_CLASS),
)
GP_DOCUMENTS = Metric(
    "hub.gp.documents",
    "counter",
    "{document}",
    "GP documents a posting settled, by outcome (posted, duplicate, refused, rejected).",
    (OUTCOME, GP_COMPANY),
)
GP_AMOUNT = Metric(
    "hub.gp.amount",
    "counter",
    "USD",
    "The documents' amounts, by the same outcomes.",
    (OUTCOME, GP_COMPANY),
)
API_REQUESTS = Metric(
    "hub.api.requests",
    "counter",
    "{request}",
    "Calls to /api, by operation and status code.",
    (OPERATION, HTTP_STATUS),
)
API_DURATION = Metric(
    "hub.api.duration",
    "histogram",
    "s",
    "Time to answer a call to /api, by operation and status code.",
    (OPERATION, HTTP_STATUS),
)

EVENTS_UNPUBLISHED = Metric(
    "hub.events.unpublished",
    "counter",
    "{event}",
    "Run and GP posting events the run-events topic refused (the record was written; subscribers miss it).",
    (EVENT_TYPE,),
)
BILLING_DIFFERENCES = Metric(
    "hub.billing.differences",
    "counter",
    "{difference}",
    "Differences the month's reconciliation found between PowerBill and GP, by kind (sent-not-in-gp, "
    "in-gp-twice, amount-differs, posted-without-statement).",
    (BILLING_DIFFERENCE, BILLING_PERIOD),
)

METRICS = (
    ROWS_MOVED,
    RUNS_SETTLED,
    RUN_DURATION,
    BATCH_LOAD_DURATION,
    STREAM_LAG,
    THROTTLED_REQUESTS,
    RETRY_WAIT,
    BREAKER_OPENS,
    DEAD_LETTERED,
    GP_DOCUMENTS,
    GP_AMOUNT,
    API_REQUESTS,
    API_DURATION,
    EVENTS_UNPUBLISHED,
    BILLING_DIFFERENCES,
)

# Dimensions every log line written inside a run, a posting or an invocation carries.
LOG_DIMENSIONS = (STREAM, RUN_ID, BATCH_ID, SYNC_MODE, CORRELATION_ID, INVOCATION_ID, GP_REQUEST_ID)
