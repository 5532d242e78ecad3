"""Table storage as the hub uses it: entities read with their ETag, written back only at that ETag.

The same guarantees ``blob_store`` gives state documents, from Table's own
conditional requests:

* an entity is created at most once (Insert Entity answers 409), which this
  adapter reports as "exists" rather than an error, as ``create_marker`` does;
* a replace or merge carries ``If-Match``; a lost update (412, or the entity
  deleted meanwhile) raises ``StateConflictError``, the exception Blob's state
  writes raise, so callers re-read and decide again whatever the store;
* changes to several entities of one partition go in one entity group
  transaction: all of them happen or none does.

Every query names one partition: the hub's keys are designed so that no
question it asks is a table scan.

Limits the callers design around, which this adapter checks before sending
because Azurite enforces only the string one (it stores a 1.2 MiB entity, 253
properties, and answers a 101-operation transaction with a malformed response) (Understanding the Table service data model,
https://learn.microsoft.com/en-us/rest/api/storageservices/understanding-the-table-service-data-model;
Performing entity group transactions,
https://learn.microsoft.com/en-us/rest/api/storageservices/performing-entity-group-transactions):
an entity is at most 1 MiB with at most 252 properties of its own; a string
property at most 64 KiB of UTF-16 (32,767 characters of the Basic Plane); a
transaction at most 100 entities of one PartitionKey, each once, under 4 MiB.
PartitionKey and RowKey are strings of at most 1 KiB without ``/ \\ # ?`` or
control characters (``key_part`` escapes them).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, cast
from urllib.parse import quote

from azure.core import MatchConditions
from azure.core.exceptions import ResourceExistsError, ResourceModifiedError, ResourceNotFoundError
from azure.data.tables import TableClient, TableServiceClient, TableTransactionError, UpdateMode

from shared.platform.conflicts import StateConflictError

MAX_TRANSACTION_OPERATIONS = 100
MAX_STRING_UNITS = 32_767  # UTF-16 code units in one string property (64 KiB)
MAX_PROPERTIES = 252
MAX_ENTITY_BYTES = 1024 * 1024
MAX_TRANSACTION_BYTES = 4 * 1024 * 1024
_ENTITY_KEYS = ("PartitionKey", "RowKey")
_CONFLICT_STATUSES = frozenset({404, 409, 412})


def key_part(value: str) -> str:
    """``value`` made safe inside a PartitionKey or RowKey: the characters keys refuse, percent-escaped.

    ``%`` is escaped too, so two different values never make the same key, and
    ``|`` (the hub's separator between key parts) is, so a part never splits.
    """
    return quote(value, safe=" !\"$&'()*+,-.:;<=>@[]^_`{}~")


def rows_between(prefix: str) -> tuple[str, str]:
    """The RowKey range holding exactly the keys that start with ``prefix`` (``ge`` low, ``lt`` high)."""
    return prefix, prefix[:-1] + chr(ord(prefix[-1]) + 1)


def string_units(value: str) -> int:
    """How much of a string property's limit ``value`` uses: UTF-16 code units, not characters."""
    return len(value.encode("utf-16-le")) // 2


class EntityTooLargeError(ValueError):
    """An entity would break one of Table's limits; the caller must spill or split it first."""


def entity_size(partition: str, row: str, properties: Mapping[str, Any]) -> int:
    """The entity's size in bytes as Azure counts it; ``EntityTooLargeError`` if Azure would refuse it.

    The size follows Microsoft's published estimate: 4 bytes, the keys in
    UTF-16, and per property 8 bytes plus its name in UTF-16 plus its value.
    """
    if len(properties) > MAX_PROPERTIES:
        raise EntityTooLargeError(f"{row}: {len(properties)} properties; Table takes {MAX_PROPERTIES}")
    size = 4 + 2 * (string_units(partition) + string_units(row))
    for name, value in properties.items():
        if isinstance(value, str) and string_units(value) > MAX_STRING_UNITS:
            raise EntityTooLargeError(f"{row}: property {name} is over Table's 64 KiB for a string")
        size += 8 + 2 * string_units(name) + _value_bytes(value)
    if size > MAX_ENTITY_BYTES:
        raise EntityTooLargeError(f"{row}: about {size} bytes; Table takes at most {MAX_ENTITY_BYTES}")
    return size


def _value_bytes(value: Any) -> int:
    if isinstance(value, str):
        return 4 + 2 * string_units(value)
    if isinstance(value, bytes):
        return 4 + len(value)
    if isinstance(value, bool):
        return 1
    return 8  # int, float, datetime


@dataclass(frozen=True)
class StoredEntity:
    """An entity's own properties (keys and metadata left out) and the ETag it was read at."""

    partition: str
    row: str
    properties: dict[str, Any]
    etag: str


@dataclass(frozen=True)
class EntityPage:
    """One page of a query; ``continuation`` is None on the last page."""

    entities: list[StoredEntity]
    continuation: dict[str, str] | None


@dataclass(frozen=True)
class Insert:
    """Create the entity; the whole transaction fails (409) if it exists."""

    row: str
    properties: Mapping[str, Any]


@dataclass(frozen=True)
class Replace:
    """Replace the entity at ``etag`` (412 if it changed); ``etag`` None: insert or replace, unconditionally."""

    row: str
    properties: Mapping[str, Any]
    etag: str | None = None


@dataclass(frozen=True)
class Delete:
    """Delete the entity, at ``etag`` if given; the transaction fails (404) if it is not there."""

    row: str
    etag: str | None = None


Operation = Insert | Replace | Delete


@dataclass
class Transaction:
    """Changes to one partition, committed together by ``TableStore.commit``."""

    partition: str
    operations: list[Operation] = field(default_factory=list)

    def add(self, operation: Operation) -> None:
        self.operations.append(operation)


class TableStore:
    """One table of the staging account, addressed by partition and row."""

    def __init__(self, service: TableServiceClient, table: str) -> None:
        self._table: TableClient = service.get_table_client(table)

    @property
    def name(self) -> str:
        return str(self._table.table_name)

    def ensure_table(self) -> None:
        """Create the table if this is a fresh account (Azurite, a new environment)."""
        with contextlib.suppress(ResourceExistsError):
            self._table.create_table()

    def read(self, partition: str, row: str) -> StoredEntity | None:
        try:
            entity = self._table.get_entity(partition, row)
        except ResourceNotFoundError:
            return None
        return _stored(entity)

    def create(self, partition: str, row: str, properties: Mapping[str, Any]) -> str | None:
        """Insert the entity; its new ETag, or None when one with these keys exists already."""
        try:
            result = self._table.create_entity(_entity(partition, row, properties))
        except ResourceExistsError:
            return None
        return str(result["etag"])

    def replace(self, partition: str, row: str, properties: Mapping[str, Any], etag: str) -> str:
        """Replace every property, only if the entity is still at ``etag``; the new ETag."""
        return self._update(partition, row, properties, etag, UpdateMode.REPLACE)

    def merge(self, partition: str, row: str, properties: Mapping[str, Any], etag: str) -> str:
        """Set the given properties, keep the others, only if the entity is still at ``etag``."""
        return self._update(partition, row, properties, etag, UpdateMode.MERGE)

    def delete(self, partition: str, row: str, etag: str | None = None) -> None:
        """Delete the entity (gone already is fine); at ``etag`` if given, else raise ``StateConflictError``."""
        conditions: dict[str, Any] = {}
        if etag is not None:
            conditions = {"etag": etag, "match_condition": MatchConditions.IfNotModified}
        try:
            self._table.delete_entity(partition, row, **conditions)
        except ResourceModifiedError as error:
            raise StateConflictError(f"{self.name} {partition}/{row} changed; read it again") from error

    def query(
        self,
        partition: str,
        query_filter: str | None = None,
        parameters: Mapping[str, Any] | None = None,
        *,
        results_per_page: int = 1000,
        continuation: Mapping[str, str] | None = None,
        select: list[str] | None = None,
    ) -> EntityPage:
        """One request: up to ``results_per_page`` entities of ``partition`` matching ``query_filter``.

        The filter is OData (``RowKey ge @low and RowKey lt @high``) with its
        values as ``parameters``, which the SDK quotes; the partition is always
        added, so no call can scan the table.
        """
        # The SDK substitutes @names only between spaces, hence the spaced parentheses.
        where = "PartitionKey eq @partition" + (f" and ( {query_filter} )" if query_filter else "")
        items = self._table.query_entities(
            where,
            parameters={**(parameters or {}), "partition": partition},
            results_per_page=results_per_page,
            select=[*_ENTITY_KEYS, *select] if select else None,
        )
        # The SDK types the token as str; it is the dict of next keys it handed out.
        pages = items.by_page(continuation_token=cast(Any, dict(continuation)) if continuation else None)
        entities = [_stored(entity) for entity in next(pages, [])]
        token: Any = pages.continuation_token  # type: ignore[attr-defined]  # set by the SDK's pager
        return EntityPage(entities, dict(token) if token else None)

    def commit(self, transaction: Transaction) -> list[str]:
        """Apply every operation or none; the new ETags of the inserted and replaced entities, in order.

        A failed condition anywhere (an entity changed, exists, or is gone)
        raises ``StateConflictError``; so does nothing else.
        """
        if len(transaction.operations) > MAX_TRANSACTION_OPERATIONS:
            raise ValueError(
                f"{len(transaction.operations)} operations in one transaction; Table takes at most "
                f"{MAX_TRANSACTION_OPERATIONS}"
            )
        if not transaction.operations:
            return []
        payload = sum(
            entity_size(transaction.partition, operation.row, operation.properties)
            for operation in transaction.operations
            if not isinstance(operation, Delete)
        )
        if payload >= MAX_TRANSACTION_BYTES:
            raise EntityTooLargeError(f"a transaction of about {payload} bytes; Table takes under 4 MiB")
        try:
            results = self._table.submit_transaction(_operations(transaction))
        except TableTransactionError as error:
            if error.status_code in _CONFLICT_STATUSES:
                raise StateConflictError(
                    f"{self.name} partition {transaction.partition} changed under this transaction "
                    f"(status {error.status_code}); read it again"
                ) from error
            raise
        return [
            str(result["etag"])
            for operation, result in zip(transaction.operations, results, strict=True)
            if not isinstance(operation, Delete)
        ]

    def check(self) -> None:
        """Raise if the table cannot be reached with the hub's credentials."""
        self.query("health", results_per_page=1)

    def _update(
        self, partition: str, row: str, properties: Mapping[str, Any], etag: str, mode: UpdateMode
    ) -> str:
        try:
            result = self._table.update_entity(
                _entity(partition, row, properties),
                mode=mode,
                etag=etag,
                match_condition=MatchConditions.IfNotModified,
            )
        except (ResourceModifiedError, ResourceNotFoundError) as error:
            raise StateConflictError(f"{self.name} {partition}/{row} changed; read it again") from error
        return str(result["etag"])


def _entity(partition: str, row: str, properties: Mapping[str, Any]) -> dict[str, Any]:
    entity_size(partition, row, properties)
    return {**properties, "PartitionKey": partition, "RowKey": row}


def _stored(entity: Mapping[str, Any]) -> StoredEntity:
    properties = {name: value for name, value in entity.items() if name not in _ENTITY_KEYS}
    metadata: Mapping[str, Any] = getattr(entity, "metadata", {})
    return StoredEntity(str(entity["PartitionKey"]), str(entity["RowKey"]), properties, str(metadata["etag"]))


def _operations(transaction: Transaction) -> Iterable[tuple[str, dict[str, Any], dict[str, Any]]]:
    partition = transaction.partition
    for operation in transaction.operations:
        if isinstance(operation, Insert):
            yield "create", _entity(partition, operation.row, operation.properties), {}
        elif isinstance(operation, Replace):
            entity = _entity(partition, operation.row, operation.properties)
            if operation.etag is None:
                yield "upsert", entity, {"mode": UpdateMode.REPLACE}
            else:
                yield "update", entity, _at(operation.etag) | {"mode": UpdateMode.REPLACE}
        else:
            keys = {"PartitionKey": partition, "RowKey": operation.row}
            yield "delete", keys, _at(operation.etag) if operation.etag else {}


def _at(etag: str) -> dict[str, Any]:
    return {"etag": etag, "match_condition": MatchConditions.IfNotModified}
