"""What a connector declares for each stream; the engine does everything else.

A stream says where its rows come from (``read``), what a good row looks like
(``model``), how a row becomes a target record (``transform``), which fields
identify it (``key``), how far it has read (``cursor``) and where it lands
(``target``). Watermarks, leases, staging, publishing, loading, run records,
replay and backfill are the engine's, the same for every stream.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Generic, Protocol, TypeVar, runtime_checkable

from pydantic import BaseModel

from shared.pipeline.changes import ChangeSource
from shared.pipeline.pages import ValidPage
from shared.pipeline.target import Target

Row = Mapping[str, Any]
Record = dict[str, Any]
Model = TypeVar("Model", bound=BaseModel)


@dataclass(frozen=True)
class ReadWindow:
    """The cursor range a run reads: ``start`` inclusive, ``end`` exclusive, None = open.

    Values are the cursor column's own type (a date, a datetime, a number).
    """

    start: Any = None
    end: Any = None


@dataclass(frozen=True)
class ReadReport:
    """What a read found beyond rows, JSON-ready: a ``summary`` small enough for the run record (and
    its events), and the ``detail`` (per site, say), stored beside the run's batches."""

    summary: dict[str, Any]
    detail: dict[str, Any]


@runtime_checkable
class ReportingRead(Protocol):
    """A read that also tells what it found (the payroll budget's mapping coverage).

    ``read`` may return one instead of a plain iterable of pages; once its pages
    are read, the engine keeps ``report().summary`` in the run record and the
    detail in ``reports/<stream>/<run>.json`` of the staging container, which
    the record names (``report_path``).
    """

    def __iter__(self) -> Iterator[Sequence[Row]]: ...

    def report(self) -> ReadReport: ...


@dataclass(frozen=True)
class Stream(Generic[Model]):
    """One source-to-target flow.

    ``read`` yields pages of source rows. An incremental stream (one with a
    ``cursor``) must yield them in ascending cursor order: the engine advances
    the watermark batch by batch and refuses a stream that goes backwards.
    ``transform`` returns the target record, or None to leave a valid row out
    on purpose (it is counted, not quarantined). A stream with ``changes``
    reads only what changed at its source on incremental runs
    (``shared.pipeline.changes``); it has no cursor.

    ``transform_page`` is the opt-in fast path (``shared.pipeline.pages``):
    when ``read`` yields ``Page``s, each page is validated by column and
    ``transform_page`` returns its records in row order (None where
    ``transform`` would return None), the same records ``transform`` gives
    row by row. A page with a bad row still goes through ``transform``.
    """

    name: str
    model: type[Model]
    read: Callable[[ReadWindow], Iterable[Sequence[Row]]]
    transform: Callable[[Model], Record | None]
    target: Target
    cursor: str | None = None
    lookback: timedelta | int = 0
    deletes: bool = False
    max_bad_rows: int = 100
    max_delete_fraction: float = 0.5
    batch_rows: int = 5000
    batch_bytes: int = 4 * 1024 * 1024
    changes: ChangeSource | None = None
    transform_page: Callable[[ValidPage], Sequence[Record | None]] | None = None

    def __post_init__(self) -> None:
        if self.deletes and self.cursor is not None:
            raise ValueError(f"stream '{self.name}': deletes need a full read, so no cursor")
        if self.changes is not None and self.cursor is not None:
            raise ValueError(f"stream '{self.name}': a change-tracked stream reads by version, so no cursor")
        if not 1 <= self.batch_rows <= 100_000:
            raise ValueError(f"stream '{self.name}': batch_rows must be 1..100000")

    @property
    def key(self) -> tuple[str, ...]:
        """The target record's natural key: the target's alternate key."""
        return self.target.alternate_key


class StreamCatalog:
    """Every stream the hub knows, by name, as the connectors' catalog declares them."""

    def __init__(self, streams: Iterable[Stream[Any]] = ()) -> None:
        self._streams: dict[str, Stream[Any]] = {}
        for stream in streams:
            self.add(stream)

    def add(self, stream: Stream[Any]) -> None:
        if stream.name in self._streams:
            raise ValueError(f"two streams are named '{stream.name}'")
        self._streams[stream.name] = stream

    def get(self, name: str) -> Stream[Any]:
        try:
            return self._streams[name]
        except KeyError:
            known = ", ".join(sorted(self._streams)) or "none"
            raise KeyError(f"no stream named '{name}' (known: {known})") from None

    def __iter__(self) -> Iterator[Stream[Any]]:
        return iter(self._streams.values())
