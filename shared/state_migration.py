"""The one-way move of a deployment's state blobs into its tables: run records, GP requests, stream states.

Before issue 21 the state container held ``runs/<id>.json``,
``gp/requests/<id>.json``, ``gp/subjects/<subject>.json`` and
``streams/<stream>.json``. ``migrate_state`` files each into the table store
that replaces it, through that store's own writes, so the copies are indexed
exactly as new records are. It only ever adds: whatever a table holds already
is left as it is (after the switch the table is the record, and a blob is
history), so running it again, or after an interrupted run, moves only what is
missing. The blobs are left in place; deleting them is a separate decision.

Runs are moved newest first, so each stream's newest run claims its
``latest|`` entity once and older runs never contend for it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

from azure.identity import DefaultAzureCredential
from azure.storage.blob import BlobServiceClient
from pydantic import BaseModel, ValidationError

from shared.pipeline.run_record import RunRecord
from shared.pipeline.run_table import RunTable
from shared.pipeline.stream_state import StreamState
from shared.pipeline.stream_state_table import StreamStateTable
from shared.platform.blob_store import BlobStore
from shared.platform.conflicts import StateConflictError
from shared.platform.table_service import table_service
from shared.platform.table_store import TableStore
from shared.settings import Settings
from shared.workflows.gp_posting.request_table import PostingRequestTable
from shared.workflows.gp_posting.requests import PostingRequest

_WORKERS = 8
Record = TypeVar("Record", bound=BaseModel)


@dataclass
class Moved:
    """What became of one kind of blob: filed now, in the table already, or not a record of that kind."""

    moved: int = 0
    present: int = 0
    unreadable: list[str] = field(default_factory=list)

    def line(self, kind: str) -> str:
        unreadable = (
            f", unreadable {len(self.unreadable)}: {', '.join(self.unreadable[:5])}"
            if self.unreadable
            else ""
        )
        return f"{kind:<14} moved {self.moved}, already in the table {self.present}{unreadable}"


@dataclass
class MigrationReport:
    runs: Moved = field(default_factory=Moved)
    requests: Moved = field(default_factory=Moved)
    subjects: Moved = field(default_factory=Moved)
    streams: Moved = field(default_factory=Moved)

    def lines(self) -> list[str]:
        return [
            self.runs.line("run records"),
            self.requests.line("GP requests"),
            self.subjects.line("GP subjects"),
            self.streams.line("stream states"),
        ]


@dataclass(frozen=True)
class StateStores:
    """The table stores the blobs move into."""

    runs: RunTable
    requests: PostingRequestTable
    streams: StreamStateTable


def connect(settings: Settings) -> tuple[BlobStore, StateStores]:
    """The state container and the table stores the settings name: Azurite locally, or a deployment
    reached with the operator's Azure sign-in (``DefaultAzureCredential``) and its Table data role."""
    credential = None
    if settings.blob.connection_string is None:
        credential = DefaultAzureCredential(managed_identity_client_id=settings.managed_identity_client_id)
        blobs = BlobServiceClient(str(settings.blob.service_uri), credential=credential)
    else:
        blobs = BlobServiceClient.from_connection_string(settings.blob.connection_string)
    state = BlobStore(blobs, settings.state_container)
    tables = table_service(settings.table, credential, settings.managed_identity_client_id)
    names = settings.state_tables
    for name in names.names:
        TableStore(tables, name).ensure_table()
    stores = StateStores(
        runs=RunTable(TableStore(tables, names.runs), state),
        requests=PostingRequestTable(TableStore(tables, names.postings), state),
        streams=StreamStateTable(TableStore(tables, names.streams), state),
    )
    return state, stores


def migrate_state(state: BlobStore, stores: StateStores) -> MigrationReport:
    """Move every state blob that the tables do not hold yet; report what moved and what could not."""
    report = MigrationReport()
    run_paths = sorted(state.list("runs/"), reverse=True)
    _move(state, run_paths, RunRecord, _filer(stores.runs.create), report.runs)
    request_paths = list(state.list("gp/requests/"))
    _move(state, request_paths, PostingRequest, stores.requests.adopt, report.requests)
    for path in state.list("gp/subjects/"):
        document = state.read_json(path)
        request_id = document.value.get("requestId") if document is not None else None
        if not isinstance(request_id, str):
            report.subjects.unreadable.append(path)
            continue
        index_name = path.removeprefix("gp/subjects/").removesuffix(".json")
        _count(report.subjects, stores.requests.adopt_subject(index_name, request_id))
    for path in state.list("streams/"):
        stream = path.removeprefix("streams/").removesuffix(".json")
        _move(
            state,
            [path],
            StreamState,
            _filer(functools.partial(_create_state, stores.streams, stream)),
            report.streams,
        )
    return report


def _create_state(streams: StreamStateTable, stream: str, state: StreamState) -> None:
    streams.write(stream, state, None)


def _filer(write: Callable[[Any], object]) -> Callable[[Any], bool]:
    """``write`` as "filed now?": a store's create-only write raises ``StateConflictError`` when present."""

    def file(value: Any) -> bool:
        try:
            write(value)
        except StateConflictError:
            return False
        return True

    return file


def _move(
    state: BlobStore, paths: Sequence[str], model: type[Record], file: Callable[[Record], bool], moved: Moved
) -> None:
    def one(path: str) -> bool | None:
        document = state.read_json(path)
        if document is None:
            return None
        try:
            record = model.model_validate(document.value)
        except ValidationError:
            return None
        return file(record)

    with ThreadPoolExecutor(max_workers=_WORKERS) as workers:
        for path, outcome in zip(paths, workers.map(one, paths), strict=True):
            if outcome is None:
                moved.unreadable.append(path)
            else:
                _count(moved, outcome)


def _count(moved: Moved, filed: bool) -> None:
    if filed:
        moved.moved += 1
    else:
        moved.present += 1
