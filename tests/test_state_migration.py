"""``python -m localdev migrate-state``: a deployment's state blobs move into its tables once, and list the same."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from azure.data.tables import TableServiceClient
from azure.storage.blob import BlobServiceClient

from localdev.cli import main
from shared.pipeline.run_record import RecordProblem, RunMode, RunRecord, RunRecords, RunStatus
from shared.pipeline.run_table import RunTable
from shared.pipeline.stream_state import StreamState, StreamStates
from shared.pipeline.stream_state_table import StreamStateTable
from shared.platform.blob_store import BlobStore
from shared.platform.table_store import TableStore
from shared.settings import StateTableNames
from shared.state_migration import StateStores, migrate_state
from shared.workflows.gp_posting.request_table import PostingRequestTable
from shared.workflows.gp_posting.requests import PostingRequest, PostingRequests, PostingSubject

pytestmark = pytest.mark.services

START = datetime(2026, 11, 1, tzinfo=UTC)
STREAMS = ("user_sites", "user_roles", "legion_wage_rates")
STATUSES = (RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.PARTIALLY_FAILED, RunStatus.LOADING)


def seed_blobs(state: BlobStore) -> tuple[list[RunRecord], list[PostingRequest]]:
    """What a deployment before issue 21 holds: 60 runs, GP requests with their subjects, stream states."""
    runs = RunRecords(state)
    records = []
    for number in range(60):
        started = START + timedelta(hours=number)
        stream = STREAMS[number % 3]
        record = RunRecord(
            id=f"{started:%Y%m%dT%H%M%SZ}-{stream}-{number:08x}",
            stream=stream,
            mode=RunMode.INCREMENTAL,
            trigger="timer",
            status=STATUSES[number % 4],
            started_at=started,
            problems=[
                RecordProblem(batch_id="b", key=[n], outcome="rejected", status=400) for n in range(3000)
            ]
            if number == 7
            else [],
        )
        runs.create(record)
        records.append(record)
    requests = PostingRequests(state)
    posted = []
    for number in range(4):
        at = START + timedelta(days=number)
        request = PostingRequest(
            id=f"{at:%Y%m%dT%H%M%SZ}-gp-{number:08x}",
            subject=PostingSubject(statement_id=f"statement-{number % 3}"),
            created_at=at,
            updated_at=at,
        )
        standing, created = requests.claim(request, replace_finished=True)
        if created:
            posted.append(standing)
            requests.update(standing.id, lambda r: r.model_copy(update={"status": "succeeded"}))
    states = StreamStates(state)
    states.write("user_sites", StreamState(watermark="2026-11-03", fingerprints={"k": "d"}), None)
    states.write("user_roles", StreamState(watermark=None, last_run_id=records[-2].id), None)
    state.put("runs/not-a-run.json", b'{"id": "x"}')
    return records, posted


@pytest.fixture
def state(blob_service: BlobServiceClient) -> BlobStore:
    store = BlobStore(blob_service, f"state-{uuid.uuid4().hex[:12]}")
    store.ensure_container()
    return store


def stores_for(table_service: TableServiceClient, state: BlobStore, prefix: str) -> StateStores:
    names = StateTableNames.with_prefix(prefix)
    tables = {name: TableStore(table_service, name) for name in names.names}
    for table in tables.values():
        table.ensure_table()
    return StateStores(
        runs=RunTable(tables[names.runs], state),
        requests=PostingRequestTable(tables[names.postings], state),
        streams=StreamStateTable(tables[names.streams], state),
    )


@pytest.mark.slow(30)
def test_every_blob_moves_once_and_the_tables_list_the_same_runs(
    state: BlobStore, table_service: TableServiceClient
) -> None:
    records, posted = seed_blobs(state)
    stores = stores_for(table_service, state, f"m{uuid.uuid4().hex[:10]}")

    first = migrate_state(state, stores)
    again = migrate_state(state, stores)

    assert (first.runs.moved, first.runs.present, first.runs.unreadable) == (60, 0, ["runs/not-a-run.json"])
    assert (first.requests.moved, first.subjects.moved, first.streams.moved) == (4, 3, 2)
    assert (again.runs.moved, again.runs.present) == (0, 60)
    assert (again.requests.present, again.subjects.present, again.streams.present) == (4, 3, 2)
    assert again.requests.moved + again.subjects.moved + again.streams.moved == 0

    newest_first = sorted(records, key=lambda record: record.id, reverse=True)
    listed = stores.runs.page(top=100).records
    assert listed == newest_first  # the whole record, problems (spilled) included
    failed = stores.runs.page(status="failed", top=100).records
    assert [record.id for record in failed] == [r.id for r in newest_first if r.status is RunStatus.FAILED]
    latest = stores.runs.latest_per_stream()
    assert {stream: record.id for stream, record in latest.items()} == {
        stream: next(r.id for r in newest_first if r.stream == stream) for stream in STREAMS
    }
    for request in posted:
        assert stores.requests.latest(request.subject) == PostingRequests(state).latest(request.subject)
    assert stores.streams.read("user_sites")[0] == StreamStates(state).read("user_sites")[0]
    assert stores.streams.read("user_roles")[0].last_run_id == records[-2].id


@pytest.mark.slow(20)
def test_the_command_migrates_the_deployment_its_settings_name(
    state: BlobStore,
    table_service: TableServiceClient,
    azurite: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    records, _ = seed_blobs(state)
    state.container.delete_blob("runs/not-a-run.json")
    prefix = f"c{uuid.uuid4().hex[:10]}"
    settings = {
        "StagingStorage": azurite,
        "ServiceBusConnection": "Endpoint=sb://127.0.0.1:1;SharedAccessKeyName=k;SharedAccessKey=v;UseDevelopmentEmulator=true;",
        "STATE_CONTAINER": state.container.container_name,
        "STATE_TABLE_PREFIX": prefix,
        "DATAVERSE_URL": "https://127.0.0.1:1",
        "DATAVERSE_TENANT_ID": "tenant",
        "DATAVERSE_CLIENT_ID": "client",
    }
    for name, value in settings.items():
        monkeypatch.setenv(name, value)

    assert main(["migrate-state"]) == 0
    out = capsys.readouterr().out
    assert "run records    moved 60, already in the table 0" in out
    assert "stream states  moved 2, already in the table 0" in out
    runs = stores_for(table_service, state, prefix).runs
    assert [record.id for record in runs.page(stream="user_roles", top=5).records] == [
        record.id
        for record in sorted(records, key=lambda r: r.id, reverse=True)
        if record.stream == "user_roles"
    ][:5]
