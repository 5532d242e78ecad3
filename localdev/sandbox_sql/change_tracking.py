"""Change tracking in the sandbox SQL Server, with SQL Server's visible behaviour.

SQL Server gives each committed change a database-wide version, reports per
key the latest change since a version (``CHANGETABLE``), and forgets changes
older than its retention when cleanup runs, moving each table's minimum valid
version past them. Here triggers on each tracked table write every insert,
update and delete (an update of key columns as a delete and an insert, as SQL
Server records it) to ``HUB_CHANGE_TRACKING`` in the table's database, whose
AUTOINCREMENT row id is the version; ``HUB_CHANGE_TRACKING_TABLES`` holds each
table's minimum valid version, and ``clean_up`` plays the cleanup task. The
hub reads them through ``shared/sql/change_tracking.py``'s stand-in queries.

Tracking starts when it is enabled, after the seed rows: enabling it on a
filled table does not report the rows already there, on SQL Server either.
"""

from __future__ import annotations

import sqlite3

from shared.sql.change_tracking import CHANGE_LOG, TRACKED, TRACKED_TABLES, TrackedTable


def enable_change_tracking(connection: sqlite3.Connection, database: str) -> None:
    """Track every table of ``TRACKED_TABLES`` in ``database`` from now on (its minimum valid version: now)."""
    connection.execute(
        f"CREATE TABLE IF NOT EXISTS {database}.{CHANGE_LOG} ("
        "SYS_CHANGE_VERSION INTEGER PRIMARY KEY AUTOINCREMENT, TABLE_NAME TEXT NOT NULL, "
        "SYS_CHANGE_OPERATION TEXT NOT NULL, PRIMARY_KEY TEXT NOT NULL)"
    )
    connection.execute(
        f"CREATE TABLE IF NOT EXISTS {database}.{TRACKED} "
        "(TABLE_NAME TEXT PRIMARY KEY, MIN_VALID_VERSION INTEGER NOT NULL)"
    )
    for tracked in TRACKED_TABLES:
        if tracked.database == database:
            _track(connection, tracked)


def clean_up(connection: sqlite3.Connection, database: str, below_version: int) -> None:
    """Forget the changes before ``below_version``, as SQL Server's cleanup does past the retention period."""
    connection.execute(f"DELETE FROM {database}.{CHANGE_LOG} WHERE SYS_CHANGE_VERSION < ?", (below_version,))  # noqa: S608 - names from the declarations
    connection.execute(
        f"UPDATE {database}.{TRACKED} SET MIN_VALID_VERSION = max(MIN_VALID_VERSION, ?)",  # noqa: S608 - names from the declarations
        (below_version,),
    )


def _track(connection: sqlite3.Connection, tracked: TrackedTable) -> None:
    database, table = tracked.database, tracked.table.name
    (current,) = connection.execute(
        f"SELECT coalesce(max(seq), 0) FROM {database}.sqlite_sequence WHERE name = ?",  # noqa: S608 - names from the declarations
        (CHANGE_LOG,),
    ).fetchone()
    connection.execute(
        f"INSERT OR REPLACE INTO {database}.{TRACKED} (TABLE_NAME, MIN_VALID_VERSION) VALUES (?, ?)",  # noqa: S608 - names from the declarations
        (table, current),
    )
    old, new = _key_json(tracked, "OLD"), _key_json(tracked, "NEW")
    same_key = " AND ".join(f"OLD.{name} IS NEW.{name}" for name in tracked.primary_key)
    log = f"INSERT INTO {CHANGE_LOG} (TABLE_NAME, SYS_CHANGE_OPERATION, PRIMARY_KEY) VALUES ('{table}'"  # noqa: S608 - names from the declarations
    for name, event, when, body in (
        ("inserted", "INSERT", "", f"{log}, 'I', {new});"),
        ("deleted", "DELETE", "", f"{log}, 'D', {old});"),
        ("updated", "UPDATE", f"WHEN {same_key}", f"{log}, 'U', {new});"),
        ("rekeyed", "UPDATE", f"WHEN NOT ({same_key})", f"{log}, 'D', {old}); {log}, 'I', {new});"),
    ):
        connection.execute(
            f"CREATE TRIGGER IF NOT EXISTS {database}.{table}_{name} AFTER {event} ON {table} "
            f"FOR EACH ROW {when} BEGIN {body} END"
        )


def _key_json(tracked: TrackedTable, row: str) -> str:
    pairs = ", ".join(f"'{name}', {row}.{name}" for name in tracked.primary_key)
    return f"json_object({pairs})"
