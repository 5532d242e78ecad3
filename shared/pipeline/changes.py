"""A stream that reads only what changed at its source: the change cursor and the read it chooses.

A stream with ``changes`` (a ``ChangeSource``, which a connector builds over
SQL Server change tracking) keeps the source's change version in its state
beside the watermark. An incremental run asks the source what changed since
that version; the source names the keys the changes affect and re-reads just
those rows, and the engine stages them as any others, deleting (for a stream
with ``deletes``) the records of an affected key the re-read no longer
produces. Otherwise the run reads in full, from a version read before the
read, and its run record says why (``ChangeRead.reason``):

- the stream has no version yet (its first run, or a full run);
- the version has expired: cleanup at the source removed changes the hub never read;
- the last full read is older than ``full_read_every``: a stream's rows may
  depend on what change tracking cannot see (a rolling window of days, a
  joined table that is not tracked), so it reads in full that often anyway.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from pydantic import BaseModel

Row = Mapping[str, Any]
Key = tuple[Any, ...]


@dataclass(frozen=True)
class ChangedRows:
    """What changed since a version: the source's version now, and the affected keys' rows re-read.

    ``version`` was read before the changes, so the next read starts there.
    ``expired`` means the asked version is older than the source still
    tracks; ``pages`` is then empty and the engine reads in full.
    ``affects`` says whether a target record's key is one the changes touched.
    """

    version: int
    expired: bool
    changes: int
    pages: Iterable[Sequence[Row]]
    affects: Callable[[Key], bool]


class ChangeSource(Protocol):
    """What a stream's source of changes does; ``full_read_every`` None: never a full read just for time."""

    @property
    def full_read_every(self) -> timedelta | None: ...

    def current_version(self) -> int: ...

    def changes_since(self, version: int) -> ChangedRows: ...


class ChangeRead(BaseModel):
    """How a change-tracked run read its source, kept in its run record.

    ``fell_back_to_full_read`` with ``reason`` when it read in full;
    ``changes_read`` the changes the source reported (rows the re-read
    produced are ``extract.read``).
    """

    version_before: int | None = None
    version_after: int | None = None
    changes_read: int = 0
    fell_back_to_full_read: bool = False
    reason: str | None = None


@dataclass(frozen=True)
class ReadPlan:
    """The read a run makes: the pages, what its record says, and (for a change read) what it affects."""

    read: ChangeRead
    pages: Iterable[Sequence[Row]] | None  # None: the stream's full read
    affects: Callable[[Key], bool] | None  # None: a full read, every record is in question


def plan_read(
    source: ChangeSource, version: int | None, full_read_at: datetime | None, now: datetime, incremental: bool
) -> ReadPlan:
    """The change read when it can be one; otherwise a full read from a version read first, and why."""
    due = source.full_read_every is not None and (
        full_read_at is None or now - full_read_at >= source.full_read_every
    )
    if not incremental or version is None or due:
        reason = (
            "a full run re-reads everything"
            if not incremental
            else "no change version yet"
            if version is None
            else f"the last full read is older than {source.full_read_every}"
        )
        return _full(version, source.current_version(), reason)
    changed = source.changes_since(version)
    if changed.expired:
        return _full(
            version, changed.version, f"version {version} has expired: the source cleaned up past it"
        )
    read = ChangeRead(version_before=version, version_after=changed.version, changes_read=changed.changes)
    return ReadPlan(read, changed.pages, changed.affects)


def _full(before: int | None, after: int, reason: str) -> ReadPlan:
    read = ChangeRead(version_before=before, version_after=after, fell_back_to_full_read=True, reason=reason)
    return ReadPlan(read, None, None)
