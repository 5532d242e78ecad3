"""Run records behave the same in Blob and in Table storage; the table answers the API's questions in one query."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from shared.pipeline.run_record import RecordProblem, RunMode, RunRecord, RunRecords, RunStatus
from shared.pipeline.run_table import RUNS_PARTITION, RunTable
from shared.platform.conflicts import StateConflictError
from shared.platform.table_documents import SPILL
from tests.fixtures.state_tables import StateTables

pytestmark = pytest.mark.services

START = datetime(2026, 11, 28, 10, 37, tzinfo=UTC)


class RunOfLaterStatuses(RunRecord):
    """A record as the pipeline may grow it: statuses the table store's code never names."""

    status: str = "queued"  # type: ignore[assignment]


def run(number: int, stream: str = "user_sites", status: str = "succeeded", **fields: Any) -> RunRecord:
    started = START + timedelta(minutes=number)
    return RunRecord(
        id=f"{started:%Y%m%dT%H%M%SZ}-{stream}-{number:08x}",
        stream=stream,
        mode=RunMode.INCREMENTAL,
        trigger="timer",
        status=RunStatus(status),
        started_at=started,
        **fields,
    )


@pytest.fixture(params=["blob", "table"])
def runs(request: pytest.FixtureRequest, state_tables: StateTables) -> RunRecords | RunTable:
    if request.param == "blob":
        return RunRecords(state_tables.state)
    return RunTable(state_tables.runs, state_tables.state)


def test_a_record_is_created_once_and_read_back_whole(runs: RunRecords | RunTable) -> None:
    record = run(1, batches_expected=3, window_start="2026-11-01")
    runs.create(record)

    with pytest.raises(StateConflictError):
        runs.create(record)
    assert runs.get(record.id) == record
    assert runs.get("20261128T000000Z-user_sites-deadbeef") is None


def test_update_applies_the_change_to_the_latest_record(runs: RunRecords | RunTable) -> None:
    record = run(1, status="loading")
    runs.create(record)

    def finish(latest: RunRecord) -> None:
        latest.status = RunStatus.SUCCEEDED
        latest.load.upserted = 24

    updated = runs.update(record.id, finish)
    assert updated.status is RunStatus.SUCCEEDED
    assert runs.get(record.id) == updated
    with pytest.raises(KeyError):
        runs.update("20261128T000000Z-user_sites-deadbeef", finish)


def test_concurrent_loaders_lose_no_counts(runs: RunRecords | RunTable) -> None:
    record = run(1, status="loading")
    runs.create(record)

    def one_batch(latest: RunRecord) -> None:
        latest.load.batches_loaded += 1
        latest.load.upserted += 10

    def loader() -> None:
        for _ in range(3):
            runs.update(record.id, one_batch)

    threads = [threading.Thread(target=loader) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    final = runs.get(record.id)
    assert final is not None
    assert (final.load.batches_loaded, final.load.upserted) == (18, 180)


def test_a_deleted_run_is_gone_from_every_read(runs: RunRecords | RunTable) -> None:
    kept, unpublished = run(1), run(2, status="queued")
    runs.create(kept)
    runs.create(unpublished)

    runs.delete(unpublished.id)
    runs.delete(unpublished.id)  # gone already: nothing to do

    assert runs.get(unpublished.id) is None
    assert list(runs.ids()) == [kept.id]


def test_ids_list_every_run_oldest_first(runs: RunRecords | RunTable) -> None:
    records = [run(3), run(1, stream="user_roles"), run(2)]
    for record in records:
        runs.create(record)
    assert list(runs.ids()) == sorted(record.id for record in records)


def test_a_run_with_thousands_of_problems_round_trips(runs: RunRecords | RunTable) -> None:
    problems = [
        RecordProblem(batch_id=f"batch-{n // 1000:04d}", key=["0101", f"2026-11-{n % 28 + 1:02d}"],
                      outcome="rejected", status=400, error_code="0x80044331", message="a required column is empty")
        for n in range(3000)
    ]  # fmt: skip
    record = run(1, status="partially_failed", problems=problems)
    runs.create(record)

    assert runs.get(record.id) == record
    runs.update(record.id, lambda latest: setattr(latest, "problems", latest.problems[:2]))
    final = runs.get(record.id)
    assert final is not None and final.problems == problems[:2]


def test_the_table_spills_large_fields_to_one_blob_and_drops_it_when_no_longer_needed(
    state_tables: StateTables,
) -> None:
    runs = RunTable(state_tables.runs, state_tables.state)
    problems = [RecordProblem(batch_id="b", key=[n], outcome="rejected", status=400) for n in range(3000)]
    record = run(1, status="partially_failed", problems=problems)
    runs.create(record)

    stored = state_tables.runs.read(RUNS_PARTITION, f"id|{record.id}")
    assert stored is not None
    spill = str(stored.properties[SPILL])
    assert list(state_tables.state.list("tables/runs/")) == [spill]
    assert len(str(stored.properties["Document"])) < 32_767

    runs.update(record.id, lambda latest: setattr(latest, "problems", []))
    stored = state_tables.runs.read(RUNS_PARTITION, f"id|{record.id}")
    assert stored is not None and SPILL not in stored.properties
    assert list(state_tables.state.list("tables/runs/")) == []


@pytest.fixture
def table(state_tables: StateTables) -> RunTable:
    return RunTable(state_tables.runs, state_tables.state)


def test_a_stream_pages_newest_first_one_query_a_page(table: RunTable) -> None:
    for number in range(7):
        table.create(run(number))
    table.create(run(100, stream="user_roles"))

    pages, continuation = [], None
    while True:
        page = table.page(stream="user_sites", top=3, continuation=continuation)
        pages.append([record.started_at.minute - START.minute for record in page.records])
        continuation = page.continuation
        if continuation is None:
            break
    assert pages == [[6, 5, 4], [3, 2, 1], [0]]


def test_status_stream_and_time_filters_combine(table: RunTable) -> None:
    table.create(run(1, status="failed"))
    table.create(run(2, status="succeeded"))
    table.create(run(3, stream="user_roles", status="failed"))
    table.create(run(4, status="failed"))

    def minutes(**query: Any) -> list[int]:
        return [record.started_at.minute - START.minute for record in table.page(**query).records]

    assert minutes(status="failed") == [4, 3, 1]
    assert minutes(stream="user_sites", status="failed") == [4, 1]
    assert minutes(since=START + timedelta(minutes=2)) == [4, 3, 2]
    assert minutes(status="failed", since=START + timedelta(minutes=3)) == [4, 3]
    assert minutes() == [4, 3, 2, 1]
    assert minutes(status="loading") == []


def test_a_status_change_moves_the_run_between_indexes_at_once(table: RunTable) -> None:
    record = run(1, status="loading")
    table.create(record)
    assert [found.id for found in table.page(status="loading").records] == [record.id]

    table.update(record.id, lambda latest: setattr(latest, "status", RunStatus.FAILED))

    assert table.page(status="loading").records == []
    failed = table.page(status="failed").records
    assert [found.status for found in failed] == [RunStatus.FAILED]
    assert table.page(stream="user_sites", status="loading").records == []


def test_statuses_and_fields_the_pipeline_adds_are_filed_without_changes_here(
    state_tables: StateTables,
) -> None:
    table = RunTable(state_tables.runs, state_tables.state, model=RunOfLaterStatuses)
    base = run(1)
    for number, status in enumerate(["queued", "retrying", "dead_lettered", "handed_to_an_operator"]):
        record = RunOfLaterStatuses(
            **{**base.model_dump(), "id": f"{base.id}-{number}", "status": status, "correlation_id": "req-7"}
        )
        table.create(record)

    assert [record.status for record in table.page(status="dead_lettered").records] == ["dead_lettered"]
    assert [record.status for record in table.page(status="handed_to_an_operator").records] == [
        "handed_to_an_operator"
    ]
    assert sorted(record.status for record in table.by_correlation("req-7")) == [
        "dead_lettered",
        "handed_to_an_operator",
        "queued",
        "retrying",
    ]
    assert table.by_correlation("req-8") == []


def test_the_latest_run_of_every_stream_is_one_query(table: RunTable) -> None:
    table.create(run(2, stream="user_sites", status="running"))
    table.create(run(1, stream="user_sites"))  # older, written later: not the latest
    table.create(run(5, stream="user_roles", status="failed"))
    table.update(run(2).id, lambda latest: setattr(latest, "status", RunStatus.LOADING))

    latest = table.latest_per_stream()
    assert {stream: record.status for stream, record in latest.items()} == {
        "user_sites": RunStatus.LOADING,
        "user_roles": RunStatus.FAILED,
    }
    assert latest["user_sites"].id == run(2).id
    found = table.latest("user_roles")
    assert found is not None and found.id == run(5, stream="user_roles").id
    assert table.latest("site_days") is None


def test_racing_runs_of_one_stream_leave_the_newest_as_latest(table: RunTable) -> None:
    records = [run(number) for number in range(8)]
    failures: list[Exception] = []

    def create(record: RunRecord) -> None:
        try:
            table.create(record)
        except Exception as error:  # noqa: BLE001 - collected for the assertion below
            failures.append(error)

    threads = [threading.Thread(target=create, args=(record,)) for record in records]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    latest = table.latest("user_sites")
    assert latest is not None and latest.id == records[-1].id
    assert len(table.page(stream="user_sites").records) == 8


def test_deleting_a_streams_newest_run_makes_the_next_one_latest(table: RunTable) -> None:
    table.create(run(1))
    table.create(run(2, status="queued"))
    table.create(run(3, stream="user_roles", status="queued"))

    table.delete(run(2).id)
    table.delete(run(3, stream="user_roles").id)

    latest = table.latest_per_stream()
    assert {stream: record.id for stream, record in latest.items()} == {"user_sites": run(1).id}
    assert [record.id for record in table.page(status="queued").records] == []
    assert [record.id for record in table.page().records] == [run(1).id]


def test_a_queued_run_keeps_its_place_when_a_worker_starts_it(table: RunTable) -> None:
    queued_at = START + timedelta(minutes=5)
    queued = run(5, status="queued").model_copy(update={"queued_at": queued_at, "started_at": None})
    table.create(run(6))
    table.create(queued)
    assert [record.id for record in table.page(status="queued").records] == [queued.id]

    def claimed(latest: RunRecord) -> None:
        latest.status = RunStatus.RUNNING
        latest.started_at = START + timedelta(minutes=30)

    table.update(queued.id, claimed)
    assert [record.id for record in table.page().records] == [run(6).id, queued.id]
    assert [record.id for record in table.page(status="running").records] == [queued.id]
    assert table.page(status="queued").records == []
