"""The sync engine's Service Bus triggers: run a requested sync, and load staged batches.

Each hands its message to ``shared.pipeline.handlers``, which does the work and
settles every failure itself (retried minutes later, or set aside with its
reason for ``/api/v1/deadletters``), so the function returns and the message
completes. It raises only when it could not settle (Service Bus or storage
down): then the host abandons the message and Service Bus delivers it again.
"""

from __future__ import annotations

import logging

import azure.functions as func

from functions.app_hub import hub
from functions.delivery import EXTRACTION_SECONDS, LOAD_SECONDS, delivery_of
from functions.invocation import invocation
from shared.deadline import deadline
from shared.pipeline.progress import load_counts

log = logging.getLogger(__name__)
blueprint = func.Blueprint()


@blueprint.service_bus_queue_trigger(
    arg_name="message", queue_name="%SYNC_REQUESTS_QUEUE%", connection="ServiceBusConnection"
)
def run_requested_sync(message: func.ServiceBusMessage, context: func.Context) -> None:
    built = hub()
    with invocation(context), deadline(EXTRACTION_SECONDS):
        record = built.sync_requests.handle(delivery_of(message, built.settings.sync_requests_queue))
    if record is not None:
        log.info("Sync request %s: run %s is %s", message.message_id, record.id, record.status.value)


@blueprint.service_bus_queue_trigger(
    arg_name="message", queue_name="%BATCH_LOADS_QUEUE%", connection="ServiceBusConnection"
)
def load_staged_batch(message: func.ServiceBusMessage, context: func.Context) -> None:
    built = hub()
    with invocation(context), deadline(LOAD_SECONDS):
        result = built.batch_loads.handle(delivery_of(message, built.settings.batch_loads_queue))
    if result is not None:
        log.info("Message %s loaded: %s", message.message_id, load_counts(result.counts))


@blueprint.timer_trigger(schedule="%WATCHDOG_SCHEDULE%", arg_name="timer")
def watch_runs(timer: func.TimerRequest, context: func.Context) -> None:
    """Resume or settle the runs and GP postings whose worker or message was lost; record each stream's lag."""
    with invocation(context):
        done = hub().watchdog.sweep().in_words()
    if done:
        log.warning("Watchdog: %s", done)
