"""The Service Bus and timer triggers, called as the Functions host calls them, against the local services."""

from __future__ import annotations

import logging
import re

import pytest
from azure.functions.servicebus import ServiceBusMessage
from azure.functions.timer import TimerRequest

from functions import dataverse, gp, pipeline, syncs
from shared.pipeline.requests import SyncRequest
from shared.pipeline.run_record import RunStatus
from tests.functions.conftest import AppHub, invoked, registered

pytestmark = pytest.mark.services


def load_every_batch(app: AppHub) -> int:
    loaded = 0
    while batches := app.take(app.hub.settings.batch_loads_queue):
        for message in batches:
            pipeline.load_staged_batch(message, invoked())
            loaded += 1
    return loaded


@pytest.mark.slow(55)
def test_an_api_started_sync_whose_first_delivery_fails_for_a_moment_succeeds_on_the_same_message(
    app_hub: AppHub,
) -> None:
    hub = app_hub.hub
    queued = hub.run_queue.queue(SyncRequest("job_codes", trigger="api"), requested_by="key:test")
    (message,) = app_hub.take(hub.settings.sync_requests_queue)

    app_hub.emulator.stop()  # the batch cannot be published, nor the retry scheduled
    with pytest.raises(Exception):  # noqa: B017 - the host abandons, Service Bus delivers it again
        pipeline.run_requested_sync(message, invoked())
    interrupted = hub.engine.runs.get(queued.id)
    assert interrupted is not None and interrupted.status is RunStatus.RETRYING
    assert interrupted.error is not None and interrupted.error.error_class == "transient"

    app_hub.emulator.start()
    pipeline.run_requested_sync(message, invoked())  # the same delivery, again
    assert load_every_batch(app_hub) >= 1

    final = hub.engine.runs.get(queued.id)
    assert final is not None and final.status is RunStatus.SUCCEEDED and final.attempts == 2
    assert list(hub.engine.runs.ids()) == [queued.id]


def test_a_scheduled_sync_queues_its_first_stream_and_the_rest_follow_in_order(
    app_hub: AppHub, caplog: pytest.LogCaptureFixture
) -> None:
    hub = app_hub.hub
    caplog.set_level(logging.INFO)
    registered(syncs.blueprint, "timerTrigger")["job_codes"](TimerRequest(past_due=True), invoked())
    (first,) = app_hub.take(hub.settings.sync_requests_queue)
    pipeline.run_requested_sync(first, invoked())
    (second,) = app_hub.take(hub.settings.sync_requests_queue)  # queued once the first was staged
    pipeline.run_requested_sync(second, invoked())
    load_every_batch(app_hub)

    runs = [hub.engine.runs.get(run_id) for run_id in sorted(hub.engine.runs.ids())]
    assert [(run.stream, run.trigger, run.status) for run in runs if run] == [
        ("job_codes", "timer", RunStatus.SUCCEEDED),
        ("job_codes_by_site", "timer", RunStatus.SUCCEEDED),
    ]
    said = [record.getMessage() for record in caplog.records if record.name == "functions.pipeline"]
    loads = [line for line in said if line.startswith("Message ")]
    assert loads and all(
        re.fullmatch(r"Message \S+ loaded: [\d,]+ (created|upserted)", line) for line in loads
    )


def test_messages_that_are_not_work_are_set_aside_at_once_by_each_queue_trigger(app_hub: AppHub) -> None:
    hub = app_hub.hub
    for trigger, queue in (
        (pipeline.run_requested_sync, hub.settings.sync_requests_queue),
        (pipeline.load_staged_batch, hub.settings.batch_loads_queue),
        (gp.post_to_gp, hub.settings.gp_postings_queue),
        (dataverse.route_dataverse_event, hub.settings.dataverse_events_queue),
    ):
        trigger(
            ServiceBusMessage(
                body=b'{"not": "work"}',
                message_id=f"junk-{queue}",
                application_properties={},
                user_properties={},
            ),
            invoked(),
        )
        shelved = hub.redeliveries.shelf.get(queue, f"junk-{queue}")
        assert shelved is not None and shelved.reason == "bad_record", queue


def test_the_timers_run_on_their_own_and_the_watchdog_finds_nothing_to_do(app_hub: AppHub) -> None:
    timer = TimerRequest(past_due=False)
    timers = registered(syncs.blueprint, "timerTrigger")
    for name in (
        "master_customer_sites",
        "user_roles_and_sites",
        "wage_rates",
        "billable_expense_budgets",
        "gp_invoice_payment_status",
    ):
        timers[name](timer, invoked())
    queued = sorted(
        run.stream for run in map(app_hub.hub.engine.runs.get, app_hub.hub.engine.runs.ids()) if run
    )
    assert queued == [
        "billable_expense_budgets",
        "gp_invoice_payment_status",
        "master_customer_sites",
        "user_roles",
        "wage_rates",
    ]
    gp.sweep_gp_postings(timer, invoked())  # its first run only takes the delta link
    pipeline.watch_runs(timer, invoked())
    assert app_hub.hub.watchdog.sweep().republished == []
