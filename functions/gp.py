"""Great Plains triggers: the poster on the queue, and the sweep.

``POST /api/v1/gp/postings`` (``functions/api.py``) records a request and
queues it; the ``gp-postings`` trigger posts it; the timer queues statements
marked for GP in Dataverse that never reached the hub. When GP or Dataverse
cannot be reached the posting is retried minutes later (documents GP already
accepted are then reported as duplicates, never sent twice); a failure no
retry can fix is set aside for ``/api/v1/deadletters/gp-postings``. With GP posting not configured
the poster fails as a configuration error and the sweep does nothing.
"""

from __future__ import annotations

import logging
from collections import Counter

import azure.functions as func

from functions.app_hub import hub
from functions.delivery import POSTING_SECONDS, delivery_of
from functions.invocation import invocation
from shared.deadline import deadline

log = logging.getLogger(__name__)
blueprint = func.Blueprint()


@blueprint.service_bus_queue_trigger(
    arg_name="message", queue_name="%GP_POSTINGS_QUEUE%", connection="ServiceBusConnection"
)
def post_to_gp(message: func.ServiceBusMessage, context: func.Context) -> None:
    built = hub()
    with invocation(context), deadline(POSTING_SECONDS):
        record = built.gp_postings.handle(delivery_of(message, built.settings.gp_postings_queue))
    if record is None:
        return
    documents = Counter(document.status for document in record.documents)
    log.info(
        "GP posting %s is %s: %s",
        record.id,
        record.status,
        ", ".join(f"{count} {status}" for status, count in sorted(documents.items())) or "no documents",
    )


@blueprint.timer_trigger(schedule="%GP_SWEEP_SCHEDULE%", arg_name="timer")
def sweep_gp_postings(timer: func.TimerRequest, context: func.Context) -> None:
    with invocation(context):
        _sweep_gp_postings()


def _sweep_gp_postings() -> None:
    if not hub().gp_configured:
        log.info("GP sweep skipped: GP posting is not configured (GP_SMARTCONNECT_URL)")
        return
    result = hub().gp_sweep.run()
    if result.restarted:
        log.warning(
            "GP sweep's delta link had expired; it took a fresh one and queues statements from now on"
        )
    elif result.baseline:
        log.info("GP sweep took its first delta link; it queues statements from now on")
    elif result.queued:
        log.warning("GP sweep queued %d statement(s) the flows never handed over", len(result.queued))
