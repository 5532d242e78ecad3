"""A stream's changes from a SQL Server table with change tracking: the keys they affect, re-read.

Each change-tracked stream says what "the change" means for its records
(README, "Change tracking on the SQL Server side"): which of its own keys a
changed source row concerns (``affected``: a site, a user), how to re-read
the stream's rows for just those keys (``re_read``, the stream's usual query
narrowed to them) and which part of a target record's key is that key
(``key_of``). A stream that aggregates (job codes per site) thus re-counts
only the sites whose shifts changed; a quiet read is the change query alone.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import Engine

from shared.pipeline.changes import ChangedRows, Key, Row
from shared.sql.change_tracking import Change, TrackedTable, current_version, read_changes

# Every change-tracked stream also depends on what tracking cannot see (a rolling window of days, an
# untracked joined table), so each still reads in full once a day, as the daily timer did before.
DAILY = timedelta(days=1)


@dataclass(frozen=True)
class TrackedChanges:
    """The ``ChangeSource`` of a stream over one tracked table (``shared.pipeline.changes``)."""

    edw: Engine
    tracked: TrackedTable
    affected: Callable[[Change], Iterable[str]]
    re_read: Callable[[set[str]], Iterable[Sequence[Row]]]
    key_of: Callable[[Key], Any]
    full_read_every: timedelta | None = DAILY

    def current_version(self) -> int:
        return current_version(self.edw, self.tracked)

    def changes_since(self, version: int) -> ChangedRows:
        found = read_changes(self.edw, self.tracked, version)
        keys = {key for change in found.changes for key in self.affected(change)}
        pages: Iterable[Sequence[Row]] = self.re_read(keys) if keys else ()
        return ChangedRows(
            version=found.current_version,
            expired=found.expired,
            changes=len(found.changes),
            pages=pages,
            affects=lambda key: self.key_of(key) in keys,
        )
