"""The sandbox environment's rows in one SQLite file: row JSON, alternate-key index, row versions, deletions.

Every write takes the next value of one environment-wide version counter, as
SQL Server's rowversion does for Dataverse: it is the row's ETag and the
position change tracking reads from. Deleted rows leave a tombstone with the
version of their deletion, so a delta link can report them. Transactions nest
(savepoints), which is how a ``$batch`` change set commits all or nothing; work
queued with ``after_commit`` (the service endpoint's events) runs only once it has.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import orjson

from localdev.sandbox.dataverse.collation import DEFAULT_COLLATION, Collation

_SCHEMA = """
CREATE TABLE IF NOT EXISTS rows (
    entity TEXT NOT NULL, id TEXT NOT NULL, version INTEGER NOT NULL, data BLOB NOT NULL,
    PRIMARY KEY (entity, id)
);
CREATE INDEX IF NOT EXISTS rows_by_version ON rows (entity, version);
CREATE TABLE IF NOT EXISTS row_keys (
    entity TEXT NOT NULL, key_name TEXT NOT NULL, key_value TEXT NOT NULL, id TEXT NOT NULL,
    PRIMARY KEY (entity, key_name, key_value)
);
CREATE INDEX IF NOT EXISTS row_keys_by_row ON row_keys (entity, id);
CREATE TABLE IF NOT EXISTS tombstones (entity TEXT NOT NULL, id TEXT NOT NULL, version INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS tombstones_by_version ON tombstones (entity, version);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
INSERT OR IGNORE INTO counters (name, value) VALUES ('version', 1000);
"""


class DuplicateKeyError(Exception):
    """Another row already holds these alternate key values."""


def key_fingerprint(values: tuple[Any, ...], collation: Collation) -> str:
    """One index entry for a row's key values: text folded by the environment's collation."""
    normal: list[Any] = []
    for value in values:
        if isinstance(value, str):
            normal.append(collation.fold(value))
        elif isinstance(value, float) and value.is_integer():
            normal.append(int(value))
        elif isinstance(value, date | datetime):
            normal.append(value.isoformat())
        else:
            normal.append(value)
    return json.dumps(normal, separators=(",", ":"))


@dataclass(frozen=True)
class StoredRow:
    id: str
    version: int
    data: dict[str, Any]


class RowStore:
    """Rows of every table, by entity set name and primary id."""

    def __init__(self, path: Path, collation: Collation = DEFAULT_COLLATION) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.collation = collation
        # One thread (the server's event loop) uses the connection; the flag lets tests open it elsewhere.
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        self._depth = 0
        self._after_commit: list[tuple[int, Callable[[], None]]] = []

    def close(self) -> None:
        self._db.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """All writes inside commit together or not at all; nested calls are savepoints."""
        savepoint = f"level_{self._depth}"
        self._db.execute("BEGIN IMMEDIATE" if self._depth == 0 else f"SAVEPOINT {savepoint}")
        self._depth += 1
        try:
            yield
        except BaseException:
            self._depth -= 1
            # What was to follow the writes rolled back is forgotten with them.
            self._after_commit = [(level, call) for level, call in self._after_commit if level <= self._depth]
            if self._depth == 0:
                self._db.execute("ROLLBACK")
            else:
                self._db.execute(f"ROLLBACK TO {savepoint}")
                self._db.execute(f"RELEASE {savepoint}")
            raise
        self._depth -= 1
        self._db.execute("COMMIT" if self._depth == 0 else f"RELEASE {savepoint}")
        if self._depth == 0:
            calls, self._after_commit = self._after_commit, []
            for _, call in calls:
                call()

    def after_commit(self, call: Callable[[], None]) -> None:
        """Run ``call`` once the outermost transaction commits (never, if it rolls back)."""
        self._after_commit.append((self._depth, call))

    def set_collation(self, collation: Collation) -> None:
        """Compare keys by ``collation`` from now on; refused once rows are stored, as Dataverse refuses."""
        if collation is self.collation:
            return
        if self._db.execute("SELECT 1 FROM rows LIMIT 1").fetchone() is not None:
            raise ValueError("the collation cannot change once the environment holds rows; reset it first")
        self.collation = collation

    def next_version(self) -> int:
        (value,) = self._db.execute(
            "UPDATE counters SET value = value + 1 WHERE name = 'version' RETURNING value"
        ).fetchone()
        return int(value)

    def current_version(self) -> int:
        (value,) = self._db.execute("SELECT value FROM counters WHERE name = 'version'").fetchone()
        return int(value)

    def get(self, entity: str, row_id: str) -> StoredRow | None:
        found = self._db.execute(
            "SELECT id, version, data FROM rows WHERE entity = ? AND id = ?", (entity, row_id)
        ).fetchone()
        return _row(found) if found else None

    def find_by_key(self, entity: str, key_name: str, values: tuple[Any, ...]) -> StoredRow | None:
        found = self._db.execute(
            "SELECT r.id, r.version, r.data FROM row_keys k "
            "JOIN rows r ON r.entity = k.entity AND r.id = k.id "
            "WHERE k.entity = ? AND k.key_name = ? AND k.key_value = ?",
            (entity, key_name, key_fingerprint(values, self.collation)),
        ).fetchone()
        return _row(found) if found else None

    def put(
        self,
        entity: str,
        row_id: str,
        version: int,
        data: Mapping[str, Any],
        keys: Mapping[str, tuple[Any, ...]],
    ) -> None:
        """Write the row and re-index its alternate keys; ``DuplicateKeyError`` if another row holds one."""
        self._db.execute(
            "INSERT INTO rows (entity, id, version, data) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (entity, id) DO UPDATE SET version = excluded.version, data = excluded.data",
            (entity, row_id, version, orjson.dumps(dict(data))),
        )
        self._db.execute("DELETE FROM row_keys WHERE entity = ? AND id = ?", (entity, row_id))
        for key_name, values in keys.items():
            if any(value is None for value in values):
                continue  # a row with an empty key column is not addressable by that key
            try:
                self._db.execute(
                    "INSERT INTO row_keys (entity, key_name, key_value, id) VALUES (?, ?, ?, ?)",
                    (entity, key_name, key_fingerprint(values, self.collation), row_id),
                )
            except sqlite3.IntegrityError:
                raise DuplicateKeyError(key_name) from None

    def delete(self, entity: str, row_id: str, version: int) -> None:
        self._db.execute("DELETE FROM rows WHERE entity = ? AND id = ?", (entity, row_id))
        self._db.execute("DELETE FROM row_keys WHERE entity = ? AND id = ?", (entity, row_id))
        self._db.execute(
            "INSERT INTO tombstones (entity, id, version) VALUES (?, ?, ?)", (entity, row_id, version)
        )

    def rows(self, entity: str, up_to_version: int | None = None) -> list[StoredRow]:
        if up_to_version is None:
            cursor = self._db.execute("SELECT id, version, data FROM rows WHERE entity = ?", (entity,))
        else:
            cursor = self._db.execute(
                "SELECT id, version, data FROM rows WHERE entity = ? AND version <= ?",
                (entity, up_to_version),
            )
        return [_row(found) for found in cursor]

    def changed_rows(self, entity: str, after: int, up_to: int) -> list[StoredRow]:
        cursor = self._db.execute(
            "SELECT id, version, data FROM rows WHERE entity = ? AND version > ? AND version <= ?",
            (entity, after, up_to),
        )
        return [_row(found) for found in cursor]

    def deleted_ids(self, entity: str, after: int, up_to: int) -> list[str]:
        """Ids deleted in the window and not re-created since, each once."""
        cursor = self._db.execute(
            "SELECT DISTINCT t.id FROM tombstones t "
            "WHERE t.entity = ? AND t.version > ? AND t.version <= ? AND NOT EXISTS "
            "(SELECT 1 FROM rows r WHERE r.entity = t.entity AND r.id = t.id AND r.version <= ?)",
            (entity, after, up_to, up_to),
        )
        return [str(row_id) for (row_id,) in cursor]

    def clear(self) -> None:
        """Forget every row and tombstone; the version counter keeps counting so old ETags never match."""
        with self.transaction():
            for table in ("rows", "row_keys", "tombstones"):
                self._db.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed table names


def _row(found: tuple[Any, ...]) -> StoredRow:
    row_id, version, data = found
    return StoredRow(str(row_id), int(version), orjson.loads(data))
