"""Loading records into a Dataverse table by alternate key, with one result per record.

``source_wins``: one upsert (``PATCH`` by key) per record, sent in ``$batch``
requests of up to 1000, several batches at once; how big and how many follows
the service protection limits Dataverse says it met (``LoadPace``). ``skip_if_changed``: the rows
already there are read first (by key, in bulk); new rows are created with a
``POST`` carrying their key columns, which never overwrites a row (one that
appeared since the read refuses it with a duplicate-key error), and existing
ones updated with ``If-Match: <etag>`` and
without the columns Dataverse owns, so an edit made in Dataverse between the
read and the write is reported as a ``conflict`` instead of being overwritten,
and a column people maintain in Dataverse is kept, and reported as kept.

A record Dataverse refuses (400, 404 on an update, 412 or a duplicate key on a
create) becomes a ``rejected``, ``not_found`` or ``conflict`` result and the
rest load; the HTTP status decides, since Microsoft's 404 and 412 bodies carry
an empty code. A refusal that names a column the table does not have is a
config error of the whole batch, raised as one ``HubError``: every record would
fail the same way. Throttled (429) and
failed-for-now (5xx) operations are sent again, only those, after the wait
Dataverse asks for, within a total time budget and the work's deadline
(``shared.deadline``); past either the sink raises a ``HubError`` of the right
class, with the wait still owed as ``retry_after``, so the Service Bus message
is delivered again no sooner than Dataverse allows (every write is keyed, so
loading a batch twice changes nothing). A ``Retry-After`` of minutes thus
delays the batch instead of failing it.
"""

from __future__ import annotations

import functools
import random
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from shared import deadline
from shared.connectors.dataverse.batch import MAX_OPERATIONS, BatchOperation, BatchPartResponse
from shared.connectors.dataverse.client import DataverseClient
from shared.connectors.dataverse.collation import KeyCollation
from shared.connectors.dataverse.keys import UnusableKeyError, entity_path, key_filter, key_of
from shared.connectors.dataverse.odata_errors import (
    classify_dataverse,
    dataverse_error,
    is_duplicate_key,
    parse_odata_error,
)
from shared.connectors.dataverse.pace import LoadPace
from shared.errors import ERROR_ACTIONS, ErrorClass, HubError, ThrottledError
from shared.http.backoff import full_jitter, parse_retry_after
from shared.pipeline.target import Outcome, RecordResult
from shared.telemetry import names
from shared.telemetry.spans import SpanKind, span

_ETAG = "@odata.etag"
_NO_WRITE = 0  # RecordResult.status when no write was sent: nothing to change, or an unusable key
_RETRYABLE = frozenset(cls for cls, action in ERROR_ACTIONS.items() if action.retry)


class ConflictPolicy(StrEnum):
    SOURCE_WINS = "source_wins"
    SKIP_IF_CHANGED = "skip_if_changed"
    # Rows are only ever changed, never created: for a source that knows more rows than the target
    # should hold (GP's invoices against the ones the hub posted). A key with no row is not_found.
    UPDATE_ONLY = "update_only"


@dataclass(frozen=True)
class DataverseTarget:
    """Where a stream's records land and how a clash with an edit made in Dataverse is settled."""

    entity_set: str
    alternate_key: tuple[str, ...]
    conflict_policy: ConflictPolicy = ConflictPolicy.SOURCE_WINS
    keep_dataverse_fields: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return self.entity_set

    def __post_init__(self) -> None:
        if not self.alternate_key:
            raise ValueError(f"{self.entity_set}: an alternate key needs at least one column")
        overlap = set(self.alternate_key) & set(self.keep_dataverse_fields)
        if overlap:
            raise ValueError(f"{self.entity_set}: key columns {sorted(overlap)} cannot also be kept fields")
        if self.keep_dataverse_fields and self.conflict_policy is not ConflictPolicy.SKIP_IF_CHANGED:
            raise ValueError(
                f"{self.entity_set}: keep_dataverse_fields needs conflict_policy skip_if_changed"
            )


@dataclass(frozen=True)
class _Group:
    """The input positions that address one row, each with its key as that record spelled it."""

    key: tuple[Any, ...]
    members: list[tuple[int, tuple[Any, ...]]]

    @property
    def last(self) -> int:
        return self.members[-1][0]


@dataclass(frozen=True)
class _Write:
    """The one request made for a group of records, and the outcome it means when it succeeds."""

    group: _Group
    success: Outcome
    operation: BatchOperation
    kept: tuple[str, ...] = ()


def _utc_now() -> datetime:
    return datetime.now(UTC)


class DataverseSink:
    """Writes records to Dataverse tables through ``$batch`` and reports each record's outcome."""

    def __init__(
        self,
        client: DataverseClient,
        *,
        max_parallel_batches: int = 4,
        batch_size: int = MAX_OPERATIONS,
        retry_budget_seconds: float = 240.0,
        max_rounds: int = 10,
        base_seconds: float = 1.0,
        cap_seconds: float = 60.0,
        lookup_keys_per_query: int = 100,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] = _utc_now,
        draw: Callable[[float, float], float] = random.uniform,
        key_collation: KeyCollation = KeyCollation.CI_AI,
    ) -> None:
        if not 1 <= batch_size <= MAX_OPERATIONS:
            raise ValueError(f"batch_size must be 1..{MAX_OPERATIONS}")
        if max_parallel_batches < 1 or max_rounds < 1 or lookup_keys_per_query < 1:
            raise ValueError("max_parallel_batches, max_rounds and lookup_keys_per_query must be positive")
        self._client = client
        self.pace = LoadPace(batch_size, max_parallel_batches)
        self._budget = retry_budget_seconds
        self._max_rounds = max_rounds
        self._base = base_seconds
        self._cap = cap_seconds
        self._keys_per_query = lookup_keys_per_query
        self._clock = clock
        self._now = now
        self._draw = draw
        # 'ab12', 'AB12' and, on an accent-insensitive environment, 'Café' and 'Cafe' are one row.
        self._match_key = key_collation.matcher()

    def upsert(self, target: DataverseTarget, records: Sequence[Mapping[str, Any]]) -> list[RecordResult]:
        """Write ``records``; the result list lines up with them. Records sharing a key get one write."""
        results: list[RecordResult | None] = [None] * len(records)
        groups = self._group(target, records, results)
        if target.conflict_policy is ConflictPolicy.SOURCE_WINS:
            writes = [self._upsert(target, group, records[group.last]) for group in groups]
            self._execute(target, writes, results, idempotent=True)
        elif target.conflict_policy is ConflictPolicy.UPDATE_ONLY:
            writes = [
                self._upsert(target, group, records[group.last], success=Outcome.UPDATED, if_match="*")
                for group in groups
            ]
            self._execute(target, writes, results, idempotent=True)
        else:
            writes = self._guarded_writes(target, groups, records, results)
            # A lost answer must not be resent: a create that landed would come back as a false
            # conflict. Service Bus redelivers instead, and the next read sees the row.
            self._execute(target, writes, results, idempotent=False)
        return _complete(results)

    def delete(self, target: DataverseTarget, keys: Sequence[Mapping[str, Any]]) -> list[RecordResult]:
        """Delete the rows with these keys; a key with no row is ``not_found``, not an error."""
        results: list[RecordResult | None] = [None] * len(keys)
        writes = []
        for group in self._group(target, keys, results):
            values = dict(zip(target.alternate_key, group.key, strict=True))
            operation = self._client.delete_operation(target.entity_set, values)
            writes.append(_Write(group, Outcome.DELETED, operation))
        self._execute(target, writes, results, idempotent=True)
        return _complete(results)

    def _group(
        self,
        target: DataverseTarget,
        records: Sequence[Mapping[str, Any]],
        results: list[RecordResult | None],
    ) -> list[_Group]:
        """Records grouped by the row they address, in first-seen order; unusable keys are rejected here."""
        groups: dict[tuple[Any, ...], _Group] = {}
        for position, record in enumerate(records):
            key = key_of(target.alternate_key, record)
            try:
                entity_path(target.entity_set, target.alternate_key, record)
            except UnusableKeyError as error:
                results[position] = RecordResult(key, Outcome.REJECTED, _NO_WRITE, "unusable_key", str(error))
                continue
            groups.setdefault(self._match_key(key), _Group(key, [])).members.append((position, key))
        return list(groups.values())

    def _upsert(
        self,
        target: DataverseTarget,
        group: _Group,
        record: Mapping[str, Any],
        *,
        success: Outcome = Outcome.UPSERTED,
        if_match: str | None = None,
        kept: tuple[str, ...] = (),
    ) -> _Write:
        # Key columns stay out of the body: Dataverse takes them from the URL
        # ("Use Upsert to Create or Update a record").
        body = {name: value for name, value in record.items() if name not in target.alternate_key}
        values = dict(zip(target.alternate_key, group.key, strict=True))
        operation = self._client.upsert_operation(target.entity_set, values, body, if_match=if_match)
        return _Write(group, success, operation, kept)

    def _create(self, target: DataverseTarget, group: _Group, record: Mapping[str, Any]) -> _Write:
        body = {**record, **dict(zip(target.alternate_key, group.key, strict=True))}
        return _Write(group, Outcome.CREATED, self._client.create_operation(target.entity_set, body))

    def _guarded_writes(
        self,
        target: DataverseTarget,
        groups: list[_Group],
        records: Sequence[Mapping[str, Any]],
        results: list[RecordResult | None],
    ) -> list[_Write]:
        existing = self._read_existing(target, groups, records)
        writes = []
        for group in groups:
            record = records[group.last]
            row = existing.get(self._match_key(group.key))
            if row is None:
                writes.append(self._create(target, group, record))
                continue
            kept = tuple(
                name
                for name in target.keep_dataverse_fields
                if name in record and row.get(name) != record[name]
            )
            changes = {
                name: value
                for name, value in record.items()
                if name not in target.alternate_key
                and name not in target.keep_dataverse_fields
                and ("@" in name or row.get(name) != value)
            }
            if not changes:
                unchanged = RecordResult(
                    group.key, Outcome.UNCHANGED, _NO_WRITE, message=_kept_message(kept), kept=kept
                )
                _record(results, group, unchanged)
                continue
            # No etag means the table has no optimistic concurrency; update-only is the most we can ask.
            etag = row.get(_ETAG) or "*"
            writes.append(
                self._upsert(target, group, changes, success=Outcome.UPDATED, if_match=etag, kept=kept)
            )
        return writes

    def _read_existing(
        self,
        target: DataverseTarget,
        groups: list[_Group],
        records: Sequence[Mapping[str, Any]],
    ) -> dict[tuple[Any, ...], dict[str, Any]]:
        """The rows already in Dataverse for these keys, with the columns needed to compare and keep."""
        columns = dict.fromkeys(target.alternate_key)
        for group in groups:
            columns.update(dict.fromkeys(name for name in records[group.last] if "@" not in name))
        columns.update(dict.fromkeys(target.keep_dataverse_fields))
        rows: dict[tuple[Any, ...], dict[str, Any]] = {}
        keys = [group.key for group in groups]
        for start in range(0, len(keys), self._keys_per_query):
            chunk = keys[start : start + self._keys_per_query]
            query = self._client.query(
                target.entity_set, list(columns), filter=key_filter(target.alternate_key, chunk)
            )
            for row in query:
                rows[self._match_key(key_of(target.alternate_key, row))] = row
        return rows

    def _execute(
        self,
        target: DataverseTarget,
        writes: list[_Write],
        results: list[RecordResult | None],
        *,
        idempotent: bool,
    ) -> None:
        """Send every write in batches; resend throttled and failed-for-now ones until done or out of time."""
        started = self._clock()
        pending = writes
        throttled = False
        wait = 0.0
        for round_number in range(self._max_rounds):
            if not pending:
                return
            batches, answered = self._send_all(pending, idempotent)
            retry: list[_Write] = []
            hints: list[float] = []
            throttled = False
            for batch, answers in zip(batches, answered, strict=True):
                for position, write in enumerate(batch):
                    # Dataverse stops early only without continue-on-error; unanswered writes go again.
                    answer = answers[position] if position < len(answers) else None
                    error_class = _failure_class(answer)
                    if answer is not None and error_class not in _RETRYABLE:
                        self._settle(target, write, answer, results)
                        continue
                    retry.append(write)
                    if error_class is ErrorClass.THROTTLED and answer is not None:
                        self.pace.throttled(parse_odata_error(answer.body, answer.status).code)
                        throttled = True
                    hint = parse_retry_after(answer.header("Retry-After"), self._now()) if answer else None
                    if hint is not None:
                        hints.append(hint)
            pending = retry
            if not pending:
                return
            wait = max(hints) if hints else full_jitter(round_number, self._base, self._cap, self._draw)
            left = deadline.remaining()
            if self._clock() - started + wait > self._budget or (left is not None and wait >= left):
                break
            self._client.pause(wait)
        spent = self._clock() - started
        message = (
            f"{len(pending)} writes to {target.entity_set} were still "
            f"{'throttled' if throttled else 'failing'} after {spent:.0f} s; the batch must be loaded again"
        )
        context = {"system": "dataverse", "operation": "load", "entity": target.entity_set}
        if throttled:
            raise ThrottledError(message, context=context, retry_after=wait)
        raise HubError(message, error_class=ErrorClass.TRANSIENT, context=context, retry_after=wait)

    def _send_all(
        self, writes: list[_Write], idempotent: bool
    ) -> tuple[list[list[_Write]], list[list[BatchPartResponse]]]:
        """Every write sent once: in waves of ``pace.parallel`` batches of ``pace.batch_size``.

        Each wave is cut at the pace the previous one left, so a load slows
        down within one call, not only from the next.
        """
        batches: list[list[_Write]] = []
        answered: list[list[BatchPartResponse]] = []
        send = deadline.carried(functools.partial(self._send, idempotent=idempotent))
        start = 0
        with ThreadPoolExecutor(max_workers=self.pace.max_parallel) as pool:
            while start < len(writes):
                size, parallel = self.pace.batch_size, self.pace.parallel
                end = min(start + size * parallel, len(writes))
                wave = [writes[i : min(i + size, end)] for i in range(start, end, size)]
                batches.extend(wave)
                answered.extend(pool.map(send, wave))
                start = end
        return batches, answered

    def _send(self, batch: list[_Write], idempotent: bool) -> list[BatchPartResponse]:
        """One ``$batch``, in a span saying how many records it carried and how each part was answered."""
        with span(names.SPAN_DATAVERSE_BATCH, {names.RECORDS: len(batch)}, SpanKind.CLIENT) as call:
            answers = self._client.execute_batch(
                [write.operation for write in batch], idempotent=idempotent, on_throttled=self.pace.throttled
            )
            statuses = Counter(answer.status for answer in answers)
            call.set_attributes({f"{names.OUTCOMES}.{status}": count for status, count in statuses.items()})
            call.set_attribute(names.THROTTLED, statuses[429])
        self.pace.answered()
        return answers

    def _settle(
        self,
        target: DataverseTarget,
        write: _Write,
        answer: BatchPartResponse,
        results: list[RecordResult | None],
    ) -> None:
        if answer.status < 400:
            message = _kept_message(write.kept)
            result = RecordResult(
                write.group.key, write.success, answer.status, message=message, kept=write.kept
            )
        else:
            error = parse_odata_error(answer.body, answer.status)
            if classify_dataverse(answer.status, error.code, error.message) in (
                ErrorClass.AUTH,
                ErrorClass.CONFIG,
            ):
                context = {
                    "system": "dataverse",
                    "operation": write.success.value,
                    "entity": target.entity_set,
                }
                raise dataverse_error(answer.status, error, context=context)
            outcome = _refusal(write.success, answer.status, error.code)
            result = RecordResult(write.group.key, outcome, answer.status, error.code or None, error.message)
        _record(results, write.group, result)


def _failure_class(answer: BatchPartResponse | None) -> ErrorClass | None:
    """The error class of an operation's answer; transient when there was none, None for a success."""
    if answer is None:
        return ErrorClass.TRANSIENT
    if answer.status < 400:
        return None
    error = parse_odata_error(answer.body, answer.status)
    return classify_dataverse(answer.status, error.code, error.message)


def _refusal(success: Outcome, status: int, error_code: str) -> Outcome:
    """The outcome for a refused write, by what it tried to do and the HTTP status Dataverse answered.

    A create refused because the key is taken (whatever the status: Microsoft documents the
    duplicate-key code, not its status) is a conflict: someone created the row since it was read.
    """
    if status == 412 or (success is Outcome.CREATED and is_duplicate_key(error_code)):
        return Outcome.CONFLICT
    if status == 404 and success in (Outcome.UPDATED, Outcome.DELETED):
        return Outcome.NOT_FOUND
    return Outcome.REJECTED


def _record(results: list[RecordResult | None], group: _Group, result: RecordResult) -> None:
    """The group's result for each of its records, under the key as that record spelled it."""
    for position, key in group.members:
        results[position] = replace(result, key=key)


def _kept_message(kept: tuple[str, ...]) -> str | None:
    return f"kept Dataverse's {', '.join(kept)}" if kept else None


def _complete(results: list[RecordResult | None]) -> list[RecordResult]:
    done = [result for result in results if result is not None]
    if len(done) != len(results):
        raise RuntimeError("a record was left without a result")
    return done
