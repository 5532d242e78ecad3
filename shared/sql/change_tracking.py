"""SQL Server change tracking: what changed in a table since a version, in one query.

Microsoft's sync pattern ("Work with change tracking", CHANGETABLE,
CHANGE_TRACKING_MIN_VALID_VERSION), followed as written:

1. read ``CHANGE_TRACKING_CURRENT_VERSION()`` first: it becomes the version
   the next read starts from, so a change committed while this one reads is
   read again next time rather than never;
2. check the stored version against ``CHANGE_TRACKING_MIN_VALID_VERSION``
   of the table: below it, cleanup has removed changes the hub never read,
   and the caller must read the table in full (``Changes.expired``);
3. read ``CHANGETABLE(CHANGES <table>, @last_version)`` LEFT JOINed to the
   table on its primary key: one row per changed key with its latest
   version and operation (``I``, ``U``, ``D``), the row's current columns,
   NULL for a deleted row;

all three inside one snapshot transaction, as Microsoft advises, so the
version, the validity check and the changes agree even while cleanup runs;
the database needs ``ALLOW_SNAPSHOT_ISOLATION ON``. The three are one batch
sent as one statement: a quiet read costs one query.

A sandbox (SQLite, ``localdev/sandbox_sql``) keeps the same facts in tables
of its own, filled by triggers: a change log whose row id is the version
(``HUB_CHANGE_TRACKING``) and each tracked table's minimum valid version
(``HUB_CHANGE_TRACKING_TABLES``), which its cleanup moves. Its stand-in
query returns the same columns, so callers never ask which server they read.

The primary keys are the hub's assumption (change tracking needs one, and
Towne Park's are in no source): they are declared in ``TRACKED_TABLES``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, Table, text

from shared.errors import ErrorClass, HubError
from shared.sql.tables import master_non_financial, shift_entity, workday_rls_bisecurity
from shared.telemetry import names
from shared.telemetry.spans import span

CHANGE_LOG = "HUB_CHANGE_TRACKING"  # the sandbox's log of changes, one per database
TRACKED = "HUB_CHANGE_TRACKING_TABLES"  # the sandbox's tracked tables and their minimum valid version
_KEY_PREFIX = "CT_"  # CHANGETABLE's key columns, apart from the joined table's columns of the same name


@dataclass(frozen=True)
class TrackedTable:
    """A table change tracking is enabled on, with the primary key CHANGETABLE reports."""

    table: Table
    primary_key: tuple[str, ...]

    @property
    def name(self) -> str:
        """The three-part name on SQL Server: ``TP_LEGION.dbo.SHIFT_ENTITY``."""
        return self.table.fullname

    @property
    def database(self) -> str:
        return str(self.table.schema).split(".")[0]


# Inferred keys: a shift is an employee's start at a site (so a shift moved to another site is a
# delete there and an insert here, and both sites are recounted); an access row is all its columns;
# a master row is its site.
SHIFTS = TrackedTable(shift_entity, ("LOCATION_EXTERNAL_ID", "EMPLOYEE_EXTERNAL_ID", "START_DATE"))
SITE_ACCESS = TrackedTable(workday_rls_bisecurity, ("USER_ID", "JOB_PROFILE", "COST_CENTER", "SITE"))
MASTER_SITES = TrackedTable(master_non_financial, ("SITE",))
TRACKED_TABLES = (SHIFTS, SITE_ACCESS, MASTER_SITES)


class ChangeTrackingOffError(HubError):
    """The hub is set to read a table's changes, but change tracking is not enabled on it."""

    default_class = ErrorClass.CONFIG


@dataclass(frozen=True)
class Change:
    """One changed key: its latest version and operation, its key values, and the row as it is now."""

    version: int
    operation: str  # I, U or D
    key: dict[str, Any]
    row: dict[str, Any] | None  # None for a deleted row


@dataclass(frozen=True)
class Changes:
    """What one read found. ``expired``: the version asked for is older than cleanup kept; no changes."""

    current_version: int
    min_valid_version: int
    since: int
    changes: tuple[Change, ...]

    @property
    def expired(self) -> bool:
        return self.since < self.min_valid_version


def current_version(edw: Engine, tracked: TrackedTable) -> int:
    """The version a full read starts from, read before the read (Microsoft's "obtain initial data")."""
    with span(names.SPAN_SQL_QUERY, {names.DB_SYSTEM: edw.dialect.name}), edw.connect() as connection:
        row = connection.execute(text(_version_query(tracked, edw.dialect.name))).mappings().one()
    return _checked(tracked, row["CURRENT_VERSION"], row["MIN_VALID_VERSION"])[0]


def read_changes(edw: Engine, tracked: TrackedTable, since: int) -> Changes:
    """The changes after version ``since``, with the current and minimum valid versions, in one query."""
    with (
        span(names.SPAN_SQL_QUERY, {names.DB_SYSTEM: edw.dialect.name}) as query,
        edw.connect() as connection,
    ):
        rows = list(
            connection.execute(text(_changes_query(tracked, edw.dialect.name)), {"since": since}).mappings()
        )
        query.set_attribute(names.ROWS, len(rows))
    current, min_valid = _checked(tracked, rows[0]["CURRENT_VERSION"], rows[0]["MIN_VALID_VERSION"])
    columns = [column.name for column in tracked.table.columns]
    changes = tuple(
        Change(
            version=row["SYS_CHANGE_VERSION"],
            operation=row["SYS_CHANGE_OPERATION"],
            key={name: row[_KEY_PREFIX + name] for name in tracked.primary_key},
            row=None if row["SYS_CHANGE_OPERATION"] == "D" else {name: row[name] for name in columns},
        )
        for row in rows
        if row["SYS_CHANGE_VERSION"] is not None
    )
    return Changes(current, min_valid, since, changes)


def _checked(tracked: TrackedTable, current: int | None, min_valid: int | None) -> tuple[int, int]:
    if current is None or min_valid is None:
        raise ChangeTrackingOffError(
            f"change tracking is not enabled on {tracked.name}: enable it there "
            f"(ALTER TABLE ... ENABLE CHANGE_TRACKING) or switch the hub's setting for it off"
        )
    return int(current), int(min_valid)


def _version_query(tracked: TrackedTable, dialect: str) -> str:
    if dialect == "sqlite":
        current, min_valid = _sandbox_versions(tracked)
        return f"SELECT {current} AS CURRENT_VERSION, {min_valid} AS MIN_VALID_VERSION"
    return (
        "SELECT CHANGE_TRACKING_CURRENT_VERSION() AS CURRENT_VERSION, "
        f"CHANGE_TRACKING_MIN_VALID_VERSION(OBJECT_ID(N'{tracked.name}')) AS MIN_VALID_VERSION"
    )


def _changes_query(tracked: TrackedTable, dialect: str) -> str:
    return _sandbox_changes(tracked) if dialect == "sqlite" else _sql_server_changes(tracked)


def _sql_server_changes(tracked: TrackedTable) -> str:
    """The production batch: versions, validity and changes in one snapshot transaction, one result set.

    The anchor row makes a quiet read still return the versions; an expired
    version joins no changes. The isolation level is set back, as the pooled
    connection serves other reads after this one.
    """
    keys = ", ".join(f"CT.[{name}] AS [{_KEY_PREFIX}{name}]" for name in tracked.primary_key)
    columns = ", ".join(f"T.[{column.name}]" for column in tracked.table.columns)
    joined = " AND ".join(f"T.[{name}] = CT.[{name}]" for name in tracked.primary_key)
    return f"""SET NOCOUNT ON;
SET TRANSACTION ISOLATION LEVEL SNAPSHOT;
BEGIN TRANSACTION;
DECLARE @current_version bigint = CHANGE_TRACKING_CURRENT_VERSION();
DECLARE @min_valid_version bigint = CHANGE_TRACKING_MIN_VALID_VERSION(OBJECT_ID(N'{tracked.name}'));
SELECT @current_version AS CURRENT_VERSION, @min_valid_version AS MIN_VALID_VERSION,
    CT.SYS_CHANGE_VERSION, CT.SYS_CHANGE_OPERATION, {keys}, {columns}
FROM (SELECT 1 AS ANCHOR) AS A
LEFT JOIN (
    CHANGETABLE(CHANGES {tracked.name}, :since) AS CT
    LEFT JOIN {tracked.name} AS T ON {joined}
) ON @min_valid_version <= :since
ORDER BY CT.SYS_CHANGE_VERSION;
COMMIT TRANSACTION;
SET TRANSACTION ISOLATION LEVEL READ COMMITTED;"""  # noqa: S608 - names from the declarations


def _sandbox_versions(tracked: TrackedTable) -> tuple[str, str]:
    """The sandbox's CHANGE_TRACKING_CURRENT_VERSION() and CHANGE_TRACKING_MIN_VALID_VERSION(...)."""
    database, table = tracked.database, tracked.table.name
    current = f"(SELECT coalesce(max(seq), 0) FROM {database}.sqlite_sequence WHERE name = '{CHANGE_LOG}')"  # noqa: S608 - names from the declarations
    min_valid = f"(SELECT MIN_VALID_VERSION FROM {database}.{TRACKED} WHERE TABLE_NAME = '{table}')"  # noqa: S608 - names from the declarations
    return current, min_valid


def _sandbox_changes(tracked: TrackedTable) -> str:
    """The sandbox's CHANGETABLE(CHANGES ...): each key's latest change after ``since``, net of the ones
    before it as SQL Server reports them (inserted since → I even if updated; deleted → D)."""
    database, table = tracked.database, tracked.table.name
    current, min_valid = _sandbox_versions(tracked)
    keys = ", ".join(
        f"json_extract(PRIMARY_KEY, '$.{name}') AS {_KEY_PREFIX}{name}" for name in tracked.primary_key
    )
    chosen = ", ".join(f"C.{_KEY_PREFIX}{name}" for name in tracked.primary_key)
    columns = ", ".join(f"T.{column.name}" for column in tracked.table.columns)
    joined = " AND ".join(f"T.{name} IS C.{_KEY_PREFIX}{name}" for name in tracked.primary_key)
    return f"""SELECT V.CURRENT_VERSION, V.MIN_VALID_VERSION, C.SYS_CHANGE_VERSION, C.SYS_CHANGE_OPERATION,
    {chosen}, {columns}
FROM (SELECT {current} AS CURRENT_VERSION, {min_valid} AS MIN_VALID_VERSION) AS V
LEFT JOIN (
    SELECT max(SYS_CHANGE_VERSION) AS SYS_CHANGE_VERSION,
        CASE WHEN max(CASE WHEN IS_LATEST THEN SYS_CHANGE_OPERATION END) = 'D' THEN 'D'
             WHEN max(SYS_CHANGE_OPERATION = 'I') THEN 'I' ELSE 'U' END AS SYS_CHANGE_OPERATION,
        {keys}
    FROM (
        SELECT SYS_CHANGE_VERSION, SYS_CHANGE_OPERATION, PRIMARY_KEY,
            SYS_CHANGE_VERSION = max(SYS_CHANGE_VERSION) OVER (PARTITION BY PRIMARY_KEY) AS IS_LATEST
        FROM {database}.{CHANGE_LOG}
        WHERE TABLE_NAME = '{table}' AND SYS_CHANGE_VERSION > :since
    )
    GROUP BY PRIMARY_KEY
) AS C ON V.MIN_VALID_VERSION <= :since
LEFT JOIN {database}.{table} AS T ON C.SYS_CHANGE_OPERATION <> 'D' AND {joined}
ORDER BY C.SYS_CHANGE_VERSION"""  # noqa: S608 - names from the declarations
