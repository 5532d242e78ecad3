"""A run's life on the run-events topic as CloudEvents, from which its record is rebuilt exactly."""

from __future__ import annotations

import orjson
import pytest
from azure.servicebus import ServiceBusClient, ServiceBusReceiveMode

from functions import gp, pipeline
from shared.pipeline.requests import SyncRequest
from shared.pipeline.run_events import rebuild_run
from shared.platform.cloud_events import CONTENT_TYPE, CloudEvent
from shared.workflows.gp_posting.events import rebuild_posting
from shared.workflows.gp_posting.requests import PostingSubject
from tests.fixtures.gp_sandbox import GpSandbox
from tests.functions.conftest import AppHub, invoked
from tests.functions.test_queue_triggers import load_every_batch
from tests.great_plains.gp_world import billing_day, expected, seed_chart, write_statements

pytestmark = pytest.mark.services
SUBSCRIPTION = (
    "operations"  # the emulator's subscription on the run-events topic (localdev/servicebus_emulator)
)


def published(app: AppHub) -> list[CloudEvent]:
    """Every event waiting on the topic's subscription, checked as structured-mode CloudEvents."""
    events = []
    with (
        ServiceBusClient.from_connection_string(app.emulator.connection_string) as client,
        client.get_subscription_receiver(
            app.hub.settings.run_events_topic,
            SUBSCRIPTION,
            receive_mode=ServiceBusReceiveMode.RECEIVE_AND_DELETE,
            max_wait_time=3,
        ) as receiver,
    ):
        while batch := receiver.receive_messages(100, 3):
            for message in batch:
                assert message.content_type == CONTENT_TYPE
                event = CloudEvent.model_validate(orjson.loads(b"".join(message.body)))
                assert str(message.message_id) == event.id and message.subject == event.type
                events.append(event)
    return events


@pytest.mark.slow(20)
def test_a_runs_record_rebuilt_from_its_events_equals_the_stored_record(app_hub: AppHub) -> None:
    hub = app_hub.hub
    queued = hub.run_queue.queue(SyncRequest("job_codes", trigger="api"), requested_by="key:test")
    (message,) = app_hub.take(hub.settings.sync_requests_queue)
    pipeline.run_requested_sync(message, invoked())
    assert load_every_batch(app_hub) >= 1
    stored = hub.engine.runs.get(queued.id)
    assert stored is not None and stored.status.finished

    events = [event for event in published(app_hub) if event.subject == queued.id]
    assert rebuild_run(events) == stored
    assert rebuild_run(events + events[1:3]) == stored, "a repeated event changes nothing"
    facts = [
        event.type.removeprefix("com.townepark.hub.run.")
        for event in sorted(events, key=lambda e: e.sequence)
    ]
    assert facts[0] == "queued" and facts[1] == "started" and facts[-1] == "settled"
    assert "batch_staged" in facts or "extracted" in facts
    loading = [e for e in events if e.type.endswith((".batch_loaded", ".settled"))]
    loaded = {batch for e in loading for batch in e.data["changes"].get("loaded_batches", [])}
    assert loaded == set(stored.loaded_batches), "each batch's load is told by the event of its write"
    assert [int(event.sequence) for event in sorted(events, key=lambda e: e.sequence)] == list(
        range(0, stored.version + 1)
    ), "every write of the record is one event"
    assert {event.source for event in events} == {"/towne-park/integration-hub/runs/job_codes"}


@pytest.mark.slow(20)
def test_a_gp_postings_record_rebuilt_from_its_events_equals_the_stored_request(
    app_hub: AppHub, gp_sandbox: GpSandbox
) -> None:
    hub = app_hub.hub
    day = billing_day(1, first_site=7300)
    seed_chart(gp_sandbox, expected(day))
    write_statements(hub, day)
    requested, _ = hub.gp_postings.request(PostingSubject(statement_id=day[0].statement_id))
    (message,) = app_hub.take(hub.settings.gp_postings_queue)
    gp.post_to_gp(message, invoked())
    stored = hub.gp_postings.requests.get(requested.id)
    assert stored is not None and stored.status == "succeeded", stored

    events = [event for event in published(app_hub) if event.subject == requested.id]
    assert rebuild_posting(events) == stored
    facts = [
        event.type.removeprefix("com.townepark.hub.gp_posting.")
        for event in sorted(events, key=lambda e: e.sequence)
    ]
    assert facts[:2] == ["requested", "started"] and facts[-1] == "settled"
    assert facts.count("document_posted") == len(expected(day))
