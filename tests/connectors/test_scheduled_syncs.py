"""The timers of ``functions/syncs.py``: one per declared sync, schedule from its setting, overlap logged.

The triggers are called as the Functions host calls them, with a
``TimerRequest``, on the real engine and run queue of the connectors' test
world (Azurite, the Service Bus emulator); only ``hub()`` is pointed at them
instead of the app settings' ones. A timer queues its sync; running it is the
sync-requests trigger's, tested in ``tests/pipeline``.
"""

from __future__ import annotations

import logging
import types
import uuid
from collections.abc import Iterator
from datetime import datetime

import azure.functions as func
import pytest
from azure.functions.timer import TimerRequest

import functions.syncs as syncs
from localdev.functions_host.invocation import InvocationContext
from localdev.functions_host.schedules import parse_schedule
from shared.connectors.syncs import SYNCS, TIMED_SYNCS, Source
from shared.pipeline.run_queue import RunQueue
from shared.pipeline.run_record import RunStatus
from shared.platform.service_bus import ServiceBus
from tests.connectors.conftest import Hub

pytestmark = pytest.mark.services
BY_NAME = {sync.name: sync for sync in SYNCS}
SYNC_REQUESTS = "sync-requests"


@pytest.fixture
def timers(hub: Hub, monkeypatch: pytest.MonkeyPatch) -> Iterator[Hub]:
    engine = hub.world.engine
    run_queue = RunQueue(
        engine.catalog, engine.runs, engine.slots, ServiceBus(hub.world.bus), SYNC_REQUESTS, engine.now
    )
    monkeypatch.setattr(syncs, "hub", lambda: types.SimpleNamespace(engine=engine, run_queue=run_queue))
    yield hub
    if queued := set(engine.runs.ids()):
        _take_requests(hub, queued)  # a request taken already is simply not found again


def _take_requests(hub: Hub, run_ids: set[str]) -> set[str]:
    """Complete the sync requests this test's timers published (message id = run id); the ids taken.

    Other tests' messages are put back, and each is looked at once, so the loop ends.
    """
    taken: set[str] = set()
    seen: set[int] = set()
    with hub.world.bus.get_queue_receiver(SYNC_REQUESTS, max_wait_time=2) as receiver:
        while taken != run_ids:
            batch = receiver.receive_messages(max_message_count=20, max_wait_time=2)
            fresh = [message for message in batch if message.sequence_number not in seen]
            for message in batch:
                seen.add(message.sequence_number or 0)
                if message.message_id in run_ids:
                    receiver.complete_message(message)
                    taken.add(str(message.message_id))
                else:
                    receiver.abandon_message(message)
            if not fresh:
                break
    return taken


def _runs(hub: Hub) -> list[tuple[str, str, RunStatus, list[str]]]:
    records = [hub.world.engine.runs.get(run_id) for run_id in hub.world.engine.runs.ids()]
    return sorted((run.stream, run.trigger, run.status, run.then) for run in records if run)


def test_one_timer_per_declared_sync_with_its_schedule_setting() -> None:
    app = func.FunctionApp()
    app.register_functions(syncs.blueprint)
    schedules = {}
    for function in app.get_functions():
        trigger = function.get_trigger()
        assert trigger is not None
        schedules[function.get_function_name()] = trigger.get_dict_repr()["schedule"]
    assert schedules == {sync.name: f"%{sync.schedule_setting}%" for sync in TIMED_SYNCS}
    midnight = datetime(2026, 11, 28)
    fires = {sync.name: parse_schedule(sync.default_schedule).next_after(midnight) for sync in SYNCS}
    assert fires["master_customer_sites"] == datetime(2026, 11, 28, 3, 0)
    assert fires["wage_rates"] == datetime(2026, 11, 28, 4, 0)
    assert parse_schedule(BY_NAME["wage_rates"].default_schedule).next_after(fires["wage_rates"]) == datetime(
        2026, 11, 28, 8, 0
    )


def test_each_generated_timer_queues_its_own_sync(timers: Hub) -> None:
    app = func.FunctionApp()
    app.register_functions(syncs.blueprint)
    for function in app.get_functions():
        context = InvocationContext(str(uuid.uuid4()), function.get_function_name(), ".")
        function.get_user_function()(timer=TimerRequest(), context=context)

    assert _runs(timers) == sorted(
        (sync.streams[0], "timer", RunStatus.QUEUED, list(sync.streams[1:]))
        for sync in SYNCS
        if sync.source == Source.EDW
    )
    assert _take_requests(timers, set(timers.world.engine.runs.ids())) == set(timers.world.engine.runs.ids())


def test_a_timer_queues_its_first_stream_with_the_rest_to_follow_and_logs_a_late_start(
    timers: Hub, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=syncs.__name__)
    syncs.run_scheduled_sync(BY_NAME["user_roles_and_sites"], TimerRequest(past_due=True))

    assert _runs(timers) == [("user_roles", "timer", RunStatus.QUEUED, ["user_sites"])]
    assert "running late (past due)" in caplog.text


def test_a_stream_still_queued_is_skipped_with_a_warning_not_an_error(
    timers: Hub, caplog: pytest.LogCaptureFixture
) -> None:
    syncs.run_scheduled_sync(BY_NAME["wage_rates"], TimerRequest())
    (first,) = timers.world.engine.runs.ids()
    syncs.run_scheduled_sync(BY_NAME["wage_rates"], TimerRequest())

    assert "skipped stream wage_rates" in caplog.text and first in caplog.text
    assert list(timers.world.engine.runs.ids()) == [first]


def test_a_sync_whose_source_is_not_configured_is_skipped_naming_the_setting(
    timers: Hub, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=syncs.__name__)
    syncs.run_scheduled_sync(BY_NAME["gp_invoice_payment_status"], TimerRequest())

    assert "gp_invoice_payment_status skipped" in caplog.text and "GP_SQL_URL" in caplog.text
    assert list(timers.world.engine.runs.ids()) == []
