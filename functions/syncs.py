"""The scheduled syncs that replace Towne Park's dataflows: one timer per declared sync, schedule from its setting.

The timers are made from the declarations (``shared.connectors.syncs.SYNCS``),
each named after its sync and bound to ``%<its schedule setting>%``; the
Python worker indexes them from the blueprint like hand-written ones, by the
function's ``__name__``. Each timer queues its sync's streams on the
sync-requests queue, the same way the API does: the first free stream now,
each later one once the one before it is staged. A stream still queued or
running from an earlier occurrence (a slow wage-rate run) is skipped with a
warning: runs never overlap. The run itself, its retries and its failures are
the sync-requests trigger's (``functions/pipeline.py``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import azure.functions as func

from functions.app_hub import hub
from functions.invocation import invocation
from shared.connectors.syncs import SYNCS, ScheduledSync

log = logging.getLogger(__name__)
blueprint = func.Blueprint()


def run_scheduled_sync(sync: ScheduledSync, timer: func.TimerRequest) -> None:
    """Queue the sync's streams, in order, on the sync-requests queue; a stream still busy is skipped."""
    if timer.past_due:
        log.warning("Scheduled sync %s is running late (past due)", sync.name)
    known = {stream.name for stream in hub().engine.catalog}
    if not set(sync.streams) <= known:
        log.info("Scheduled sync %s skipped: its source is not configured (%s)", sync.name, sync.source)
        return
    queued, busy = hub().run_queue.queue_in_order(sync.streams, "timer")
    for running in busy:
        log.warning("Scheduled sync %s skipped stream %s: %s", sync.name, running.stream, running)
    if queued is not None:
        log.info("Scheduled sync %s queued run %s of %s", sync.name, queued.id, queued.stream)


def _timer(sync: ScheduledSync) -> Callable[[func.TimerRequest, func.Context], None]:
    def scheduled(timer: func.TimerRequest, context: func.Context) -> None:
        with invocation(context):
            run_scheduled_sync(sync, timer)

    scheduled.__name__ = scheduled.__qualname__ = sync.name
    scheduled.__doc__ = f"Queues {', '.join(sync.streams)} on %{sync.schedule_setting}%."
    return scheduled


for _sync in SYNCS:
    blueprint.timer_trigger(schedule=f"%{_sync.schedule_setting}%", arg_name="timer")(_timer(_sync))
