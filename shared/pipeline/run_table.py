"""Run records in Table storage: ``RunRecords``' interface, plus the questions the API and watchdog ask.

Every run lives in the ``runs`` partition of the runs table as its record's
JSON (``shared.platform.indexed_table``), filed under one RowKey per question,
each sorting newest first by an inverted time, the moment the run was queued
(or started, for a run that was never queued), so a run keeps its place in
every list from the moment it exists:

=======================================  =====================================
``all|<time>|<id>``                      every run, or those since a moment
``stream|<stream>|<time>|<id>``          one stream's runs
``status|<status>|<time>|<id>``          the runs in one status
``stream-status|<stream>|<status>|…``    one stream's runs in one status
``correlation|<id>|<time>|<id>``         the runs of one correlation id
``latest|<stream>``                      each stream's newest run
=======================================  =====================================

So each question is one query of one partition (``since`` bounds the same
range), and "the last run of every stream" is one query of ``latest|``.
Statuses are filed by their value, whatever the record's model calls them, so
a status the pipeline adds needs no change here; a ``correlation_id`` field is
filed when the record has one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from shared.observers import tell
from shared.pipeline.run_record import RunObserver, RunRecord
from shared.platform.blob_store import BlobStore
from shared.platform.conflicts import StateConflictError
from shared.platform.indexed_table import KEY, FoundDocument, IndexedDocuments, inverted_time
from shared.platform.table_documents import TableDocuments
from shared.platform.table_store import (
    Delete,
    Insert,
    Operation,
    Replace,
    StoredEntity,
    TableStore,
    key_part,
    rows_between,
)

RUNS_PARTITION = "runs"
SPILL_PREFIX = "tables/runs/"
LATEST = "latest|"
_UPDATE_ATTEMPTS = 20


@dataclass(frozen=True)
class RunPage:
    """Runs newest first; ``continuation`` (None on the last page) asks for the next page."""

    records: list[RunRecord]
    continuation: dict[str, str] | None


def _began(document: Mapping[str, Any]) -> datetime:
    moment = document.get("queued_at") or document.get("started_at")
    if moment is None:
        raise ValueError(
            f"run record {document.get('id')} has neither queued_at nor started_at to be filed by"
        )
    return datetime.fromisoformat(str(moment))


def _filed_as(document: Mapping[str, Any]) -> str:
    return f"{inverted_time(_began(document))}|{key_part(str(document['id']))}"


def _index_rows(document: Mapping[str, Any]) -> list[str]:
    stream, status, filed = (
        key_part(str(document["stream"])),
        key_part(str(document["status"])),
        _filed_as(document),
    )
    rows = [
        f"all|{filed}",
        f"stream|{stream}|{filed}",
        f"status|{status}|{filed}",
        f"stream-status|{stream}|{status}|{filed}",
    ]
    correlation = document.get("correlation_id")
    if correlation:
        rows.append(f"correlation|{key_part(str(correlation))}|{filed}")
    return rows


def _columns(document: Mapping[str, Any]) -> dict[str, Any]:
    """Read-only columns, so a person browsing the table sees what each entity is."""
    return {
        "Stream": str(document["stream"]),
        "Status": str(document["status"]),
        "Began": _began(document),
        "FiledAs": _filed_as(document),
    }


class RunTable:
    """Run records and their indexes in the runs table; large fields spill to the state container."""

    def __init__(
        self,
        table: TableStore,
        spill: BlobStore,
        model: type[RunRecord] = RunRecord,
        observers: Sequence[RunObserver] = (),
    ) -> None:
        """``observers`` hear of every write (the run's metrics and events: ``shared.composition``)."""
        self._runs = IndexedDocuments(
            table, TableDocuments(spill, SPILL_PREFIX), RUNS_PARTITION, _index_rows, _columns
        )
        self._model = model
        self._observers = observers

    def create(self, record: RunRecord) -> None:
        """Record a new run; ``StateConflictError`` if a run with its id exists already.

        Another run of the stream written meanwhile also fails the transaction
        (through ``latest|``); that is no reason to refuse this one, so it is tried again.
        """
        document = record.model_dump(mode="json")
        for _ in range(_UPDATE_ATTEMPTS):
            try:
                self._runs.insert(record.id, document, self._newest_of_stream(document))
            except StateConflictError:
                if self._runs.read(record.id) is not None:
                    raise
                continue
            tell(self._observers, None, record, f"run {record.id}")
            return
        raise StateConflictError(f"run record {record.id} could not be filed after {_UPDATE_ATTEMPTS} tries")

    def delete(self, run_id: str) -> None:
        """Remove a queued run whose request could not be published, with its index entities, at once.

        If it was its stream's newest run, the stream's next newest takes its
        place as ``latest|`` in the same transaction.
        """
        for _ in range(_UPDATE_ATTEMPTS):
            found = self._runs.read(run_id)
            if found is None:
                return
            stream = str(found.document["stream"])
            row = _latest_row(stream)
            current = self._runs.table.read(RUNS_PARTITION, row)
            companions: tuple[Operation, ...] = ()
            if current is not None and current.properties.get(KEY) == run_id:
                low, high = rows_between(f"stream|{key_part(stream)}|")
                older = [
                    entity
                    for entity in self._runs.table.query(
                        RUNS_PARTITION,
                        "RowKey ge @low and RowKey lt @high",
                        {"low": low, "high": high},
                        results_per_page=2,
                    ).entities
                    if entity.properties.get(KEY) != run_id
                ]
                companions = (
                    (Replace(row, older[0].properties, current.etag),)
                    if older
                    else (Delete(row, current.etag),)
                )
            try:
                self._runs.delete(found, companions)
            except StateConflictError:
                continue
            return
        raise StateConflictError(f"run record {run_id} kept changing; gave up deleting it")

    def get(self, run_id: str) -> RunRecord | None:
        found = self._runs.read(run_id)
        return None if found is None else self._model.model_validate(found.document)

    def update(self, run_id: str, change: Callable[[RunRecord], None]) -> RunRecord:
        """Apply ``change`` to the latest record and write it back; re-read and retry on a lost race."""
        for _ in range(_UPDATE_ATTEMPTS):
            found = self._runs.read(run_id)
            if found is None:
                raise KeyError(f"no run record '{run_id}'")
            before = self._model.model_validate(found.document)
            record = before.model_copy(deep=True)
            change(record)
            record.version = before.version + 1
            if self._write(found, record):
                tell(self._observers, before, record, f"run {record.id} v{record.version}")
                return record
        raise StateConflictError(f"run record {run_id} kept changing; gave up after {_UPDATE_ATTEMPTS} tries")

    def ids(self) -> Iterator[str]:
        """Every run id, oldest first (ids sort by start time)."""
        yield from self._runs.keys()

    def page(
        self,
        *,
        stream: str | None = None,
        status: str | None = None,
        since: datetime | None = None,
        top: int = 50,
        continuation: Mapping[str, str] | None = None,
    ) -> RunPage:
        """Up to ``top`` runs newest first, of ``stream`` and in ``status`` if given, started at or after
        ``since`` if given: one query."""
        if stream is not None and status is not None:
            prefix = f"stream-status|{key_part(stream)}|{key_part(status)}|"
        elif stream is not None:
            prefix = f"stream|{key_part(stream)}|"
        elif status is not None:
            prefix = f"status|{key_part(status)}|"
        else:
            prefix = "all|"
        low, high = rows_between(prefix)
        if since is not None:
            # Runs started at or after ``since`` have an inverted time no greater than its own.
            high = f"{prefix}{int(inverted_time(since)) + 1:013d}"
        page = self._runs.page(low, high, top=top, continuation=continuation)
        return RunPage(
            [self._model.model_validate(document) for document in page.documents], page.continuation
        )

    def by_correlation(self, correlation_id: str, top: int = 50) -> list[RunRecord]:
        """The runs that carry ``correlation_id``, newest first: one query."""
        low, high = rows_between(f"correlation|{key_part(correlation_id)}|")
        page = self._runs.page(low, high, top=top)
        return [self._model.model_validate(document) for document in page.documents]

    def newest(self, stream: str, status: str) -> RunRecord | None:
        """The stream's newest run in ``status`` (by start time): one query."""
        records = self.page(stream=stream, status=status, top=1).records
        return records[0] if records else None

    def latest(self, stream: str) -> RunRecord | None:
        """The stream's newest run (by start time), whatever its status: one read."""
        document = self._runs.filed_at(_latest_row(stream))
        return None if document is None else self._model.model_validate(document)

    def latest_per_stream(self) -> dict[str, RunRecord]:
        """Every stream's newest run, by stream: one query for up to a thousand streams."""
        low, high = rows_between(LATEST)
        page = self._runs.page(low, high, top=1000)
        return {record.stream: record for record in map(self._model.model_validate, page.documents)}

    def _write(self, found: FoundDocument, record: RunRecord) -> bool:
        document = record.model_dump(mode="json")
        try:
            self._runs.replace(found, document, self._newest_of_stream(document))
        except StateConflictError:
            return False
        return True

    def _newest_of_stream(
        self, document: Mapping[str, Any]
    ) -> Callable[[Mapping[str, Any]], Sequence[Operation]]:
        """The change to the stream's ``latest|`` entity that goes with writing ``document``, if any.

        It is read now and replaced at its ETag in the same transaction, so two
        runs of one stream written at once cannot both believe they are newest.
        """
        row = _latest_row(str(document["stream"]))
        current = self._runs.table.read(RUNS_PARTITION, row)
        newest = _is_newest(document, current)

        def companions(properties: Mapping[str, Any]) -> Sequence[Operation]:
            if not newest:
                return ()
            if current is None:
                return (Insert(row, properties),)
            return (Replace(row, properties, current.etag),)

        return companions


def _latest_row(stream: str) -> str:
    return f"{LATEST}{key_part(stream)}"


def _is_newest(document: Mapping[str, Any], current: StoredEntity | None) -> bool:
    if current is None or current.properties.get(KEY) == document["id"]:
        return True
    return _filed_as(document) < str(current.properties.get("FiledAs", ""))
