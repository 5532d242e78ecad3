"""A fixed year's budget on the sandbox: a changed BUDGET_FINAL cell waits for approval before it loads.

``budget_monthly`` runs with the hub's ``BudgetApprovals`` over Azurite (the
revisions table, the kept balances) and publishes each revision's events on the
emulator's run-events topic. Expected balances and sums come from this file's
SQL over the source (``budget_source``), never from the code under test.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import orjson
import pytest
from azure.data.tables import TableServiceClient
from azure.servicebus import ServiceBusClient
from azure.storage.blob import BlobServiceClient

from localdev.sandbox_sql import SandboxSummary
from shared.connectors.dataverse.sink import DataverseSink
from shared.platform.blob_store import BlobStore
from shared.platform.cloud_events import EventTopic, WriteEvents
from shared.platform.service_bus import ServiceBus
from shared.platform.table_store import TableStore
from shared.workflows.budget_revisions.approved_budget import BudgetApprovals, FixedFrom
from shared.workflows.budget_revisions.decisions import decide
from shared.workflows.budget_revisions.events import revision_event
from shared.workflows.budget_revisions.revision_table import RevisionTable
from shared.workflows.budget_revisions.revisions import (
    IllegalRevisionTransitionError,
    RevisionEvent,
    RevisionStatus,
)
from tests.connectors.budget_source import Key, budget_in_dataverse, expected_budget, three_site_budget
from tests.connectors.conftest import Hub, make_hub
from tests.fixtures.dataverse_sandbox import DataverseSandbox
from tests.fixtures.servicebus_emulator import ServiceBusEmulator

STREAM = "budget_monthly"
TOPIC, SUBSCRIPTION = "run-events", "operations"  # localdev/servicebus_emulator/config.json


@pytest.fixture
def source(sql_folder: Path) -> Iterator[sqlite3.Connection]:
    with three_site_budget(sql_folder) as connection:
        yield connection


@pytest.fixture
def revisions(
    table_service: TableServiceClient,
    blob_service: BlobServiceClient,
    servicebus_emulator: ServiceBusEmulator,
) -> Iterator[RevisionTable]:
    table = TableStore(table_service, f"t{uuid.uuid4().hex[:12]}Budgets")
    table.ensure_table()
    spill = BlobStore(blob_service, f"state-{uuid.uuid4().hex[:12]}")
    spill.ensure_container()
    with ServiceBusClient.from_connection_string(servicebus_emulator.connection_string) as client:
        drain(client)
        topic = EventTopic(ServiceBus(client), TOPIC)
        yield RevisionTable(table, spill, observers=(WriteEvents(topic, revision_event, _now),))


@pytest.fixture
def gated(
    sql_folder: Path,
    built_sandbox: SandboxSummary,
    blob_service: BlobServiceClient,
    servicebus_emulator: ServiceBusEmulator,
    sink: DataverseSink,
    revisions: RevisionTable,
) -> Iterator[tuple[Hub, date]]:
    today = built_sandbox.last_payroll_day + timedelta(days=1)
    kept = BlobStore(blob_service, f"state-{uuid.uuid4().hex[:12]}")
    kept.ensure_container()
    approvals = BudgetApprovals(revisions, kept, FixedFrom(1, 1), lambda: today, _now)
    hubs = make_hub(sql_folder, blob_service, servicebus_emulator, sink, today, approved_budget=approvals)
    yield next(hubs), today
    next(hubs, None)


def _now() -> datetime:
    return datetime.now(UTC)


def drain(client: ServiceBusClient) -> list[dict[str, object]]:
    """The budget revision events waiting on the topic's subscription (others are taken and dropped)."""
    events = []
    with client.get_subscription_receiver(TOPIC, SUBSCRIPTION) as receiver:
        while batch := receiver.receive_messages(100, 1):
            for message in batch:
                event = orjson.loads(b"".join(message.body))
                if str(event["type"]).startswith("com.townepark.hub.budget_revision."):
                    events.append(event)
                receiver.complete_message(message)
    return events


def _balance(source: sqlite3.Connection, site: str, period: str, account: str) -> Decimal:
    (balance,) = source.execute(
        "SELECT SUM(BALANCE) FROM TP_EDW.BUDGET_FINAL WHERE ltrim(COST_CENTER, '0') = ltrim(?, '0') "
        "AND PERIOD = ? AND MAIN_ACCOUNT = ?",  # both spellings of the site: the hub merges them
        (site, period, account),
    ).fetchone()
    return Decimal(str(balance))


def _add(source: sqlite3.Connection, site: str, period: str, account: str, amount: float) -> None:
    source.execute(
        "UPDATE TP_EDW.BUDGET_FINAL SET BALANCE = BALANCE + ? WHERE COST_CENTER = ? AND PERIOD = ? "
        "AND MAIN_ACCOUNT = ?",
        (amount, site, period, account),
    )


def _key(site: str, period: str, category: str) -> Key:
    return (site, f"{period[:4]}-{period[4:]}", category)


@pytest.mark.slow(15)
def test_a_change_after_the_cut_off_waits_for_approval_and_a_rejected_one_never_loads(
    gated: tuple[Hub, date],
    source: sqlite3.Connection,
    dataverse_sandbox: DataverseSandbox,
    revisions: RevisionTable,
    servicebus_emulator: ServiceBusEmulator,
) -> None:
    hub, today = gated
    year = str(today.year)
    assert FixedFrom(1, 1).is_fixed(today.year, today)  # the sandbox's current year is fixed
    hub.sync(STREAM)  # the first run after the cut-off keeps the approved budget
    approved = budget_in_dataverse(dataverse_sandbox)
    assert approved == expected_budget(source)

    payroll, revenue, late = f"{year}03", f"{year}04", f"{year}05"
    site, revenue_account = source.execute(
        "SELECT COST_CENTER, MAIN_ACCOUNT FROM TP_EDW.BUDGET_FINAL WHERE PERIOD = ? "
        "AND MAIN_ACCOUNT BETWEEN '4000' AND '4999' AND length(COST_CENTER) = 4 ORDER BY 1, 2 LIMIT 1",
        (revenue,),
    ).fetchone()
    before = {
        cell: _balance(source, site, *cell)
        for cell in ((payroll, "6005"), (revenue, revenue_account), (late, "6005"))
    }
    _add(source, site, payroll, "6005", 1000)  # to be approved
    _add(source, site, revenue, revenue_account, -500)  # to be rejected
    _add(source, site, late, "6005", 40)  # changed again before anyone decides
    season = f"{today.year + 1}01"
    source.execute(  # next year's budget, in its season: loads without approval
        "INSERT INTO TP_EDW.BUDGET_FINAL (COST_CENTER, PERIOD, MAIN_ACCOUNT, BALANCE) "
        "SELECT COST_CENTER, ?, MAIN_ACCOUNT, BALANCE FROM TP_EDW.BUDGET_FINAL WHERE PERIOD = ?",
        (season, f"{year}01"),
    )

    hub.sync(STREAM)
    held = budget_in_dataverse(dataverse_sandbox)
    expected = expected_budget(source)
    new_season = {key for key in expected if key[1] == f"{today.year + 1}-01"}
    assert new_season and all(held[key] == expected[key] for key in new_season)
    assert {key: value for key, value in held.items() if key not in new_season} == approved
    pending = {r.cell: r for r in revisions.page(status=RevisionStatus.PENDING_APPROVAL)}
    assert set(pending) == {(site, payroll, "6005"), (site, revenue, revenue_account), (site, late, "6005")}
    for (period, account), old in before.items():
        revision = pending[(site, period, account)]
        assert (revision.old_balance, revision.new_balance) == (old, _balance(source, site, period, account))

    _add(source, site, late, "6005", 60)  # the source moves on before anyone decided
    at = _now()
    approved_revision = decide(
        revisions, pending[(site, payroll, "6005")].id, RevisionEvent.APPROVED, "entra:cfo", "reforecast", at
    )
    decide(
        revisions, pending[(site, revenue, revenue_account)].id, RevisionEvent.REJECTED, "entra:cfo", "no", at
    )
    with pytest.raises(IllegalRevisionTransitionError):
        decide(revisions, approved_revision.id, RevisionEvent.APPROVED, "entra:cfo", "twice", at)

    run = hub.sync(STREAM)[STREAM]
    loaded = budget_in_dataverse(dataverse_sandbox)
    superseded = revisions.get(pending[(site, late, "6005")].id)
    assert superseded is not None and superseded.status == RevisionStatus.REJECTED
    assert superseded.history[-1].by == "hub" and "superseded" in superseded.history[-1].why
    (newer,) = [r for r in revisions.page(status=RevisionStatus.PENDING_APPROVAL) if r.cell[1] == late]
    assert newer.new_balance == before[(late, "6005")] + 100
    payroll_key, revenue_key = _key(site, payroll, "PAYROLL"), _key(site, revenue, "INTERNAL REVENUE")
    assert loaded[payroll_key] == expected[payroll_key] == pytest.approx(approved[payroll_key] + 1000)
    assert loaded[revenue_key] == approved[revenue_key] != expected[revenue_key]
    assert loaded[_key(site, late, "PAYROLL")] == approved[_key(site, late, "PAYROLL")]
    assert run.extract.staged == 1
    applied = revisions.get(approved_revision.id)
    assert applied is not None and applied.status == RevisionStatus.APPLIED
    assert [(step.status, step.by) for step in applied.history] == [
        (RevisionStatus.DETECTED, "hub"),
        (RevisionStatus.PENDING_APPROVAL, "hub"),
        (RevisionStatus.APPROVED, "entra:cfo"),
        (RevisionStatus.APPLIED, "hub"),
    ]

    quiet = hub.sync(STREAM)[STREAM]
    assert quiet.extract.staged == 0 and budget_in_dataverse(dataverse_sandbox) == loaded
    assert len(revisions.every()) == 4  # the rejected change is not put to anyone again

    with ServiceBusClient.from_connection_string(servicebus_emulator.connection_string) as client:
        events = drain(client)
    facts = {(event["subject"], str(event["type"]).rsplit(".", 1)[1]) for event in events}
    assert (approved_revision.id, "pending_approval") in facts
    assert (approved_revision.id, "applied") in facts
    assert (superseded.id, "rejected") in facts
    assert all(event["source"] == "/towne-park/integration-hub/budget-revisions" for event in events)
