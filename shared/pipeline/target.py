"""What the engine needs of a target, and what a target says back: the protocol sinks implement.

The engine moves records to "a target" without knowing which system it is:
a stream names its target (an object with the record's key columns and a
name for people), the loader hands batches to a ``Sink`` and counts the
``RecordResult`` of each record by its ``Outcome``. The Dataverse sink
(``shared.connectors.dataverse.sink``) is one implementation.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol


class Outcome(StrEnum):
    UPSERTED = "upserted"
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    CONFLICT = "conflict"
    REJECTED = "rejected"
    DELETED = "deleted"
    NOT_FOUND = "not_found"


@dataclass(frozen=True)
class RecordResult:
    """What happened to one record. ``status`` is the target's HTTP status, 0 when no write was sent.

    ``kept`` names the target-owned columns whose value differed from the
    source and was left as the target had it.
    """

    key: tuple[Any, ...]
    outcome: str
    status: int
    error_code: str | None = None
    message: str | None = None
    kept: tuple[str, ...] = ()


class Target(Protocol):
    """Where a stream's records land: the columns that identify a record there, and its name."""

    @property
    def alternate_key(self) -> tuple[str, ...]: ...

    @property
    def name(self) -> str: ...


class Sink(Protocol):
    """Writes records to their target by key, and says what became of each."""

    def upsert(self, target: Any, records: Sequence[Mapping[str, Any]]) -> list[RecordResult]: ...

    def delete(self, target: Any, keys: Sequence[Mapping[str, Any]]) -> list[RecordResult]: ...
