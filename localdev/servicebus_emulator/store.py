"""Every message and its state in one SQLite file, so stopping the emulator loses nothing.

A message row lives in one entity (a queue, a subscription or a dead-letter
sub-queue) and is ``scheduled`` (waiting for its enqueue time), ``available``
or ``locked`` (delivered in peek-lock mode until ``locked_until``). Settling
deletes or moves the row; nothing is kept for completed messages. Each change
is one transaction, committed before the client hears it succeeded.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_SCHEMA = """
CREATE TABLE IF NOT EXISTS messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    entity TEXT NOT NULL,
    sequence_number INTEGER NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('scheduled', 'available', 'locked')),
    enqueued_at REAL NOT NULL,
    visible_at REAL NOT NULL,
    delivery_count INTEGER NOT NULL DEFAULT 0,
    lock_token TEXT UNIQUE,
    locked_until REAL,
    body BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS messages_in_order ON messages (entity, state, sequence_number);
CREATE INDEX IF NOT EXISTS messages_by_lock ON messages (state, locked_until);
CREATE TABLE IF NOT EXISTS sequence_numbers (
    address TEXT PRIMARY KEY,
    last INTEGER NOT NULL
);
"""
_COLUMNS = "id, entity, sequence_number, state, enqueued_at, delivery_count, lock_token, locked_until, body"


@dataclass(frozen=True)
class StoredMessage:
    """One message as the store holds it; ``delivery_count`` counts the times it was handed out."""

    id: int
    entity: str
    sequence_number: int
    state: str
    enqueued_at: float
    delivery_count: int
    lock_token: uuid.UUID | None
    locked_until: float | None
    body: bytes


@dataclass(frozen=True)
class NewMessage:
    """A message a sender handed over, and when it may first be received (None: at once)."""

    body: bytes
    enqueue_at: float | None = None


class MessageStore:
    """The emulator's messages on disk; one instance per process, used from the event loop only."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        # WAL with NORMAL survives the emulator being killed; only an OS crash could lose the last commits.
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        self._db.close()

    def expire_all_locks(self) -> int:
        """After a restart no client holds a lock any more: let them expire like any other lost lock."""
        with self._transaction():
            expired = self._db.execute("UPDATE messages SET locked_until = 0 WHERE state = 'locked'").rowcount
        return expired

    def enqueue(
        self, address: str, copies: Sequence[str], messages: Sequence[NewMessage], now: float
    ) -> list[int]:
        """Give each message the address's next sequence number and a copy in every entity of ``copies``."""
        numbers = []
        with self._transaction():
            for message in messages:
                number = self._next_sequence_number(address)
                numbers.append(number)
                enqueue_at = max(now, message.enqueue_at or now)
                state = "scheduled" if enqueue_at > now else "available"
                self._db.executemany(
                    "INSERT INTO messages (entity, sequence_number, state, enqueued_at, visible_at, body)"
                    " VALUES (?, ?, ?, ?, ?, ?)",
                    [(entity, number, state, enqueue_at, enqueue_at, message.body) for entity in copies],
                )
        return numbers

    def cancel_scheduled(self, copies: Sequence[str], sequence_numbers: Sequence[int]) -> None:
        with self._transaction():
            self._db.executemany(
                "DELETE FROM messages WHERE state = 'scheduled' AND sequence_number = ? AND entity = ?",
                [(number, entity) for number in sequence_numbers for entity in copies],
            )

    def enqueue_due(self, now: float) -> None:
        """Scheduled messages whose time has come become available."""
        with self._transaction():
            self._db.execute(
                "UPDATE messages SET state = 'available' WHERE state = 'scheduled' AND visible_at <= ?",
                (now,),
            )

    def lock_next(self, entity: str, locked_until: float) -> StoredMessage | None:
        """Lock the first available message of ``entity`` under a new lock token, counting the delivery."""
        with self._transaction():
            row = self._first_available(entity)
            if row is None:
                return None
            self._db.execute(
                "UPDATE messages SET state = 'locked', lock_token = ?, locked_until = ?,"
                " delivery_count = delivery_count + 1 WHERE id = ?",
                (str(uuid.uuid4()), locked_until, row),
            )
            locked = self._get(row)
        return locked

    def remove_next(self, entity: str) -> StoredMessage | None:
        """Take the first available message of ``entity`` for good (receive-and-delete)."""
        with self._transaction():
            row = self._first_available(entity)
            if row is None:
                return None
            taken = self._get(row)
            self._db.execute("DELETE FROM messages WHERE id = ?", (row,))
        return taken

    def locked(self, lock_token: uuid.UUID, now: float) -> StoredMessage | None:
        """The message held under ``lock_token``, if that lock is still valid."""
        found = self._db.execute(
            f"SELECT {_COLUMNS} FROM messages WHERE lock_token = ? AND state = 'locked' AND locked_until > ?",  # noqa: S608
            (str(lock_token), now),
        ).fetchone()
        return _message(found) if found else None

    def remove(self, message_id: int) -> None:
        with self._transaction():
            self._db.execute("DELETE FROM messages WHERE id = ?", (message_id,))

    def unlock(self, message_id: int, delivery_count: int) -> None:
        """Make a locked message available again, with the delivery count the broker decided."""
        with self._transaction():
            self._db.execute(
                "UPDATE messages SET state = 'available', lock_token = NULL, locked_until = NULL,"
                " delivery_count = ? WHERE id = ?",
                (delivery_count, message_id),
            )

    def renew(self, message_id: int, locked_until: float) -> None:
        with self._transaction():
            self._db.execute("UPDATE messages SET locked_until = ? WHERE id = ?", (locked_until, message_id))

    def move(self, message_id: int, entity: str, body: bytes) -> None:
        """Move a message to another entity (its dead-letter sub-queue), available and unlocked."""
        with self._transaction():
            self._db.execute(
                "UPDATE messages SET entity = ?, body = ?, state = 'available', lock_token = NULL,"
                " locked_until = NULL WHERE id = ?",
                (entity, body, message_id),
            )

    def expired_locks(self, now: float) -> list[StoredMessage]:
        rows = self._db.execute(
            f"SELECT {_COLUMNS} FROM messages WHERE state = 'locked' AND locked_until <= ? ORDER BY id",  # noqa: S608
            (now,),
        ).fetchall()
        return [_message(row) for row in rows]

    def peek(self, entity: str, from_sequence_number: int, count: int) -> list[StoredMessage]:
        """Messages of ``entity`` in sequence order from a number on, in any state; nothing changes."""
        rows = self._db.execute(
            f"SELECT {_COLUMNS} FROM messages WHERE entity = ? AND sequence_number >= ?"  # noqa: S608
            " ORDER BY sequence_number, id LIMIT ?",
            (entity, from_sequence_number, count),
        ).fetchall()
        return [_message(row) for row in rows]

    def _first_available(self, entity: str) -> int | None:
        found = self._db.execute(
            "SELECT id FROM messages WHERE entity = ? AND state = 'available'"
            " ORDER BY sequence_number, id LIMIT 1",
            (entity,),
        ).fetchone()
        return int(found[0]) if found else None

    def _get(self, message_id: int) -> StoredMessage:
        row = self._db.execute(f"SELECT {_COLUMNS} FROM messages WHERE id = ?", (message_id,)).fetchone()  # noqa: S608
        return _message(row)

    def _next_sequence_number(self, address: str) -> int:
        self._db.execute(
            "INSERT INTO sequence_numbers (address, last) VALUES (?, 1)"
            " ON CONFLICT (address) DO UPDATE SET last = last + 1",
            (address,),
        )
        found = self._db.execute("SELECT last FROM sequence_numbers WHERE address = ?", (address,)).fetchone()
        return int(found[0])

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")


def _message(row: Any) -> StoredMessage:
    message_id, entity, sequence_number, state, enqueued_at, deliveries, lock_token, locked_until, body = row
    return StoredMessage(
        id=message_id,
        entity=entity,
        sequence_number=sequence_number,
        state=state,
        enqueued_at=enqueued_at,
        delivery_count=deliveries,
        lock_token=uuid.UUID(lock_token) if lock_token is not None else None,
        locked_until=locked_until,
        body=bytes(body),
    )
