"""GP postings end to end in-process: Dataverse statements → the gp-postings queue → sandbox GP, exactly once."""

from __future__ import annotations

import dataclasses
import uuid
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from azure.servicebus import (
    ServiceBusClient,
    ServiceBusReceivedMessage,
    ServiceBusReceiveMode,
    ServiceBusReceiver,
)

from localdev.sandbox_gp.company import set_period_closed
from localdev.sandbox_gp.world_chart import seed_world_chart
from shared.composition import Hub, build_hub
from shared.connectors.great_plains.chart import Series
from shared.connectors.great_plains.documents import GpMap
from shared.connectors.great_plains.smartconnect import envelope, read_reply
from shared.pipeline.dead_letters import DeadLetters
from shared.pipeline.watchdog import Watchdog
from shared.workflows.gp_posting.billing import BillingStatement, company_of_gl_string, statement_postings
from shared.workflows.gp_posting.requests import PostingRequest, PostingSubject
from shared.workflows.gp_posting.statistics import statistics_journals
from shared.workflows.gp_posting.unit_statistics import UnitStatisticsSource
from tests.fixtures.dataverse_sandbox import DataverseSandbox
from tests.fixtures.gp_sandbox import GpSandbox
from tests.fixtures.servicebus_emulator import ServiceBusEmulator
from tests.great_plains.gp_world import (
    GP_POSTINGS,
    as_held,
    billing_day,
    drain,
    expected,
    gp_documents,
    invoice_id,
    seed_chart,
    set_company_override,
    write_statements,
)

pytestmark = pytest.mark.services
SUCCESS = 126840000
OVERRIDE = "UPP"
# The sandbox EDW ends 2026-11-27 and closes a month in the next: October 2026 is its last closed month.
LAST_CLOSED_MONTH = date(2026, 10, 1)


def sql_folder(edw_url: str) -> Path:
    """The sandbox SQL folder behind its ``sqlite:///…/TP_EDW.sqlite`` URL, where make run's chart comes from."""
    return Path(edw_url.removeprefix("sqlite:///")).parent


def request_all(hub: Hub, statements: list[BillingStatement]) -> list[PostingRequest]:
    return [
        hub.gp_postings.request(PostingSubject(statement_id=item.statement_id), requested_by="test")[0]
        for item in statements
    ]


# SmartConnect's per-company turn is kept by the other tests; this one measures the whole path at volume.
@pytest.mark.parametrize("gp_serialised", [False])
@pytest.mark.slow(60)
def test_two_hundred_statements_land_in_gp_exactly_and_every_request_is_logged(
    gp_hub: Hub,
    gp_sandbox: GpSandbox,
    servicebus_emulator: ServiceBusEmulator,
    dataverse_sandbox: DataverseSandbox,
) -> None:
    day = billing_day(200)
    plain, overridden = day[:180], day[180:]
    wanted = expected(plain) + expected(
        [dataclasses.replace(s, company_override=OVERRIDE) for s in overridden]
    )
    seed_chart(gp_sandbox, wanted)
    write_statements(gp_hub, day)

    request_all(gp_hub, plain)
    first = drain(gp_hub, servicebus_emulator)
    set_company_override(
        gp_hub, OVERRIDE
    )  # the override is global in Towne Park's flow: it moves what follows
    request_all(gp_hub, overridden)
    second = drain(gp_hub, servicebus_emulator)

    records = first + second
    assert len(records) == 200 and all(r is not None and r.status == "succeeded" for r in records), [
        (r.status, r.refusals, r.last_error) for r in records if r is not None and r.status != "succeeded"
    ]
    assert gp_documents(gp_sandbox) == as_held(wanted)
    assert gp_sandbox.stats()["accepted"] == len(wanted)

    with dataverse_sandbox.client() as client:
        logs = client.get("bs_glrequestlogs", headers={"Prefer": "odata.maxpagesize=5000"}).json()["value"]
        invoices = client.get("bs_invoices", headers={"Prefer": "odata.maxpagesize=5000"}).json()["value"]
    by_request = {row["bs_requestxml"]: row for row in logs}
    assert len(logs) == len(wanted)
    for document in wanted:
        row = by_request[envelope(document.map_id.value, document.inter_id, document.rows)]
        assert (row["bs_sitenumber"], row["bs_requeststatus"]) == (document.site, SUCCESS)
        assert read_reply(row["bs_responsexml"]) == (True, "success")
    posted = {d.document_number: d.batch_id for d in wanted if d.map_id is not GpMap.JOURNAL}
    assert {row["bs_gpdocumentnumber"]: row["bs_gpbatchid"] for row in invoices} == posted


@pytest.mark.slow(14)
def test_every_message_twice_and_a_resubmitted_dead_letter_post_nothing_twice(
    gp_hub: Hub, gp_sandbox: GpSandbox, servicebus_emulator: ServiceBusEmulator
) -> None:
    day = billing_day(8, first_site=4000)
    late = billing_day(1, first_site=4100)
    wanted = expected(day)
    seed_chart(gp_sandbox, wanted + expected(late))
    write_statements(gp_hub, day)
    # A worker that died after posting the first invoice of the two-invoice statement: GP has it already.
    crashed = next(s for s in day if len(s.invoices) == 2)
    first_of_crashed = statement_postings(crashed).documents[0]
    assert gp_hub.gp_poster.post(first_of_crashed).status.value == "posted"
    request_all(gp_hub, day)

    abandoned: set[str] = set()

    def twice(
        receiver: ServiceBusReceiver, message: ServiceBusReceivedMessage, _: PostingRequest | None
    ) -> None:
        if str(message.message_id) in abandoned:
            receiver.complete_message(message)
        else:
            abandoned.add(str(message.message_id))
            receiver.abandon_message(message)  # Service Bus delivers it again

    delivered = drain(gp_hub, servicebus_emulator, twice, idle_seconds=2)
    assert len(delivered) == 2 * len(day)
    assert gp_documents(gp_sandbox) == as_held(wanted)

    record = gp_hub.gp_postings.requests.latest(PostingSubject(statement_id=crashed.statement_id))
    assert record is not None and record.status == "succeeded"
    assert {d.document_number: d.status for d in record.documents}[
        first_of_crashed.document_number
    ] == "duplicate"

    # GP down: the posting is retried later (seconds apart here), not redelivered at once; it posts
    # once GP is back, and nothing is dead-lettered on the way.
    write_statements(gp_hub, late)
    (queued,) = request_all(gp_hub, late)
    gp_sandbox.mode("down")
    waiting: list[PostingRequest | None] = []

    def back_after_first(
        receiver: ServiceBusReceiver, message: ServiceBusReceivedMessage, got: PostingRequest | None
    ) -> None:
        waiting.append(got)
        gp_sandbox.mode("normal")
        receiver.complete_message(message)

    drain(gp_hub, servicebus_emulator, back_after_first, idle_seconds=2)
    first, *later = waiting
    assert first is not None and first.status == "retrying" and first.next_attempt_at is not None
    done = later[-1]
    assert done is not None and done.id == queued.id and done.status == "succeeded" and done.attempts >= 2
    assert gp_documents(gp_sandbox) == as_held(wanted + expected(late))
    assert gp_hub.redeliveries.shelf.get(GP_POSTINGS, queued.id) is None


@pytest.mark.slow(10)
def test_a_document_accepted_but_timed_out_is_found_in_gp_and_not_sent_again(
    gp_hub: Hub, gp_sandbox: GpSandbox, servicebus_emulator: ServiceBusEmulator
) -> None:
    day = billing_day(1, first_site=5000)
    (document,) = expected(day)
    seed_chart(gp_sandbox, [document])
    write_statements(gp_hub, day)
    gp_sandbox.mode("timeout_after_accept", times=1, hold_seconds=3)
    request_all(gp_hub, day)
    (record,) = drain(gp_hub, servicebus_emulator, idle_seconds=2)
    assert record is not None and record.status == "succeeded"
    assert [(d.status, d.message) for d in record.documents] == [("posted", "found in GP")]

    again, created = gp_hub.gp_postings.request(PostingSubject(statement_id=day[0].statement_id))
    assert created and again.id != record.id
    (repeat,) = drain(gp_hub, servicebus_emulator, idle_seconds=2)
    assert repeat is not None and [d.status for d in repeat.documents] == ["duplicate"]
    assert gp_sandbox.stats()["calls"] == 1
    assert gp_documents(gp_sandbox) == as_held([document])


def test_statements_that_cannot_be_read_are_refused_with_the_reason(
    gp_hub: Hub, gp_sandbox: GpSandbox, servicebus_emulator: ServiceBusEmulator
) -> None:
    unknown = str(uuid.uuid4())
    broken = billing_day(1, first_site=6000)[0]
    write_statements(gp_hub, [broken])
    gp_hub.dataverse.upsert(
        "bs_invoices",
        {"bs_invoiceid": invoice_id(broken.invoices[0].invoice_number)},
        {"bs_invoicedata": "{not json"},
    )
    request_all(gp_hub, [dataclasses.replace(broken, statement_id=unknown), broken])
    records = {r.subject.statement_id: r for r in drain(gp_hub, servicebus_emulator, idle_seconds=2) if r}
    assert records[unknown].status == "refused"
    assert records[unknown].refusals == ["there is no bs_billingstatement with this id"]
    assert records[broken.statement_id].refusals == [
        "invoice 6000-202504-01-00: bs_invoicedata is not a JSON list of invoice lines"
    ]
    assert gp_sandbox.stats()["calls"] == 0


def test_a_closed_month_of_unit_statistics_posts_one_journal_per_company_and_completes_its_batch_process(
    gp_hub: Hub,
    gp_sandbox: GpSandbox,
    servicebus_emulator: ServiceBusEmulator,
    dataverse_sandbox: DataverseSandbox,
    hub_sql_sandbox: str,
) -> None:
    # The chart make run seeds: each company holds only its own sites' accounts.
    seed_world_chart(gp_sandbox.folder, sql_folder(hub_sql_sandbox))
    assert gp_hub.edw is not None
    rows = UnitStatisticsSource(gp_hub.edw).month(LAST_CLOSED_MONTH)
    assert len(rows) > 20 and {row.status for row in rows} == {"active"}
    lines = Counter(company_of_gl_string(row.gl_string) for row in rows)
    assert set(lines) == {"TOWNE", "ENC", "UPP"}
    process = "22222222-0000-0000-0000-000000000001"
    gp_hub.dataverse.upsert(
        "bs_unitaccountbatchprocesses",
        {"bs_unitaccountbatchprocessid": process},
        {"bs_period": "2026-10", "bs_status": 126840003},
    )
    gp_hub.gp_postings.request(PostingSubject(unit_statistics_period="2026-10"))
    (record,) = drain(gp_hub, servicebus_emulator, idle_seconds=2)
    assert record is not None and record.status == "succeeded", record
    assert sorted(document.company for document in record.documents) == sorted(lines)
    for company, count in lines.items():
        assert gp_sandbox.rows(company, "SELECT BACHNUMB, REFRENCE FROM GL10000") == [
            ("202610POWERSTATS", "October 2026 Statistics")
        ]
        assert gp_sandbox.rows(company, "SELECT COUNT(*) FROM GL10001") == [(count,)]
    assert gp_sandbox.rows("TEST", "SELECT COUNT(*) FROM GL10000") == [(0,)]
    journals = statistics_journals(LAST_CLOSED_MONTH, rows)
    assert [gp_hub.gp_poster.post(journal).status.value for journal in journals] == ["duplicate"] * 3
    with dataverse_sandbox.client() as client:
        row = client.get(f"bs_unitaccountbatchprocesses({process})").json()
    assert row["bs_status"] == 126840001


def test_a_month_of_unit_statistics_gp_refuses_is_refused_with_each_companys_reason(
    gp_hub: Hub,
    gp_sandbox: GpSandbox,
    servicebus_emulator: ServiceBusEmulator,
    dataverse_sandbox: DataverseSandbox,
    hub_sql_sandbox: str,
) -> None:
    seed_world_chart(gp_sandbox.folder, sql_folder(hub_sql_sandbox))
    month_end = date(2026, 10, 31)
    companies = ("TOWNE", "ENC", "UPP")
    for company in companies:
        set_period_closed(gp_sandbox.folder, company, month_end, Series.FINANCIAL)
    try:
        process = "22222222-0000-0000-0000-000000000002"
        gp_hub.dataverse.upsert(
            "bs_unitaccountbatchprocesses",
            {"bs_unitaccountbatchprocessid": process},
            {"bs_period": "2026-10", "bs_status": 126840003},
        )
        gp_hub.gp_postings.request(PostingSubject(unit_statistics_period="2026-10"))
        (record,) = drain(gp_hub, servicebus_emulator, idle_seconds=2)
    finally:
        for company in companies:
            set_period_closed(gp_sandbox.folder, company, month_end, Series.FINANCIAL, closed=False)
    assert record is not None and record.status == "refused", record
    assert sorted(record.refusals) == sorted(
        f"{company} October 2026 Statistics part 1: fiscal period October 2026 is closed for the financial series"
        for company in companies
    )
    assert {document.status for document in record.documents} == {"refused"}
    assert gp_sandbox.stats()["calls"] == 0
    with dataverse_sandbox.client() as client:
        row = client.get(f"bs_unitaccountbatchprocesses({process})").json()
    assert row["bs_status"] == 126840002


@pytest.mark.slow(10)
def test_a_posting_that_cannot_work_as_configured_is_set_aside_at_once_and_posts_when_resubmitted(
    gp_hub: Hub, gp_sandbox: GpSandbox, servicebus_emulator: ServiceBusEmulator
) -> None:
    # The same deployment without the EDW: a unit-statistics month can never post (a config failure).
    without_edw = build_hub(gp_hub.settings.model_copy(update={"edw_sql_url": None}))
    seed_world_chart(gp_sandbox.folder, sql_folder(gp_hub.settings.edw_sql_url or ""))
    queued, _ = without_edw.gp_postings.request(PostingSubject(unit_statistics_period="2026-09"))

    (dead,) = drain(without_edw, servicebus_emulator, idle_seconds=2)
    assert dead is not None and dead.status == "dead_lettered" and dead.attempts == 1
    assert dead.last_error is not None and "EDW_SQL_URL" in dead.last_error
    letters = DeadLetters(gp_hub.service_bus, gp_hub.redeliveries.shelf)
    listed, _ = letters.page(GP_POSTINGS, 50, None)
    (letter,) = [found for found in listed if found.message_id == queued.id]
    assert letter.reason == "config" and "EDW_SQL_URL" in (letter.description or "")

    assert letters.resubmit(GP_POSTINGS, queued.id) is not None  # the admin set EDW_SQL_URL
    (done,) = drain(gp_hub, servicebus_emulator, idle_seconds=2)
    assert done is not None and done.id == queued.id and done.status == "succeeded" and done.attempts == 2
    without_edw.service_bus.close()


def test_the_watchdog_publishes_again_a_posting_whose_message_was_lost(
    gp_hub: Hub, gp_sandbox: GpSandbox, servicebus_emulator: ServiceBusEmulator
) -> None:
    day = billing_day(1, first_site=4600)
    seed_chart(gp_sandbox, expected(day))
    write_statements(gp_hub, day)
    (queued,) = request_all(gp_hub, day)
    with (
        ServiceBusClient.from_connection_string(servicebus_emulator.connection_string) as client,
        client.get_queue_receiver(GP_POSTINGS, receive_mode=ServiceBusReceiveMode.RECEIVE_AND_DELETE) as lost,
    ):
        assert [str(m.message_id) for m in lost.receive_messages(10, max_wait_time=3)] == [queued.id]

    later = [datetime.now(UTC)]
    watchdog = Watchdog(
        gp_hub.engine, gp_hub.run_queue, gp_hub.loader, lambda: later[0], lambda: gp_hub.gp_postings
    )
    assert watchdog.sweep().postings_republished == []  # queued a moment ago: not lost yet
    later[0] += timedelta(minutes=31)
    assert watchdog.sweep().postings_republished == [queued.id]
    (done,) = drain(gp_hub, servicebus_emulator, idle_seconds=2)
    assert done is not None and done.id == queued.id and done.status == "succeeded"
    assert gp_documents(gp_sandbox) == as_held(expected(day))
    assert gp_hub.gp_postings.requests.active_ids() == []
