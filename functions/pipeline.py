"""The sync engine's Service Bus triggers: run a requested sync, and load staged batches.

Both raise on failure, so the Functions host abandons the message and Service
Bus redelivers it until the queue's max delivery count dead-letters it; the
run record keeps the classified reason for operators.
"""

from __future__ import annotations

import logging
from dataclasses import asdict

import azure.functions as func

from shared.composition import hub
from shared.errors import ERROR_ACTIONS, ErrorClass
from shared.pipeline.load import LoadBatchMessage
from shared.pipeline.requests import SyncRequestMessage
from shared.pipeline.sync import AlreadyRunningError

log = logging.getLogger(__name__)
blueprint = func.Blueprint()


class SyncFailedError(Exception):
    """A requested sync failed in a way a later delivery may fix (transient or throttled)."""


@blueprint.service_bus_queue_trigger(
    arg_name="message", queue_name="%SYNC_REQUESTS_QUEUE%", connection="ServiceBusConnection"
)
def run_requested_sync(message: func.ServiceBusMessage) -> None:
    request = SyncRequestMessage.model_validate_json(message.get_body())
    try:
        record = hub().engine.run(request.to_request())
    except AlreadyRunningError as running:
        log.warning("Sync request %s skipped: %s", message.message_id, running)
        if request.run_id is not None:  # the API promised the caller this run id: close it
            hub().engine.record_refusal(request.to_request(), running)
        return
    if record.error is not None and ERROR_ACTIONS[ErrorClass(record.error.error_class)].redeliver:
        raise SyncFailedError(f"run {record.id} failed ({record.error.error_class}): {record.error.message}")


@blueprint.service_bus_queue_trigger(
    arg_name="message", queue_name="%BATCH_LOADS_QUEUE%", connection="ServiceBusConnection"
)
def load_staged_batch(message: func.ServiceBusMessage) -> None:
    batch = LoadBatchMessage.model_validate_json(message.get_body())
    result = hub().loader.load(batch)
    log.info(
        "Loaded batch %s of run %s: %s",
        batch.batch.id,
        batch.run_id,
        {name: count for name, count in asdict(result.counts).items() if count},
    )
