"""The sandbox environment's tables: entity set names, primary ids, columns and alternate keys, from ``tables.json``.

Each table declares its columns (``columns``, and ``test_columns`` that only
the sandbox's own tests write), so a write or ``$select`` naming any other
property is refused as Dataverse refuses it. Only names are declared, not
types or lengths. The primary id, the columns Dataverse maintains itself
(``versionnumber``, ``createdon``, ``modifiedon``) and every key column are
always known.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEFAULT_TABLES = Path(__file__).with_name("tables.json")
SYSTEM_COLUMNS = frozenset({"versionnumber", "createdon", "modifiedon"})


class SchemaError(ValueError):
    """``tables.json`` is not usable; the message names the table and the field."""


@dataclass(frozen=True)
class AlternateKey:
    name: str
    columns: tuple[str, ...]


@dataclass(frozen=True)
class Table:
    logical_name: str
    entity_set: str
    primary_id: str
    change_tracking: bool
    alternate_keys: tuple[AlternateKey, ...]
    columns: frozenset[str] = frozenset()

    @property
    def odata_type(self) -> str:
        return f"Microsoft.Dynamics.CRM.{self.logical_name}"

    def has_column(self, name: str) -> bool:
        """Whether ``name`` is a property of this table (declared, the primary id, a system or key column)."""
        if name in self.columns or name in SYSTEM_COLUMNS or name == self.primary_id:
            return True
        return any(name in key.columns for key in self.alternate_keys)

    def key_named_by(self, columns: frozenset[str]) -> AlternateKey | None:
        """The alternate key with exactly ``columns``: Dataverse matches the set, not the order."""
        for key in self.alternate_keys:
            if frozenset(key.columns) == columns:
                return key
        return None


@dataclass(frozen=True)
class Schema:
    tables: Mapping[str, Table]  # by entity set name, as URLs name them

    def table(self, entity_set: str) -> Table | None:
        return self.tables.get(entity_set)


def load_schema(path: Path = DEFAULT_TABLES) -> Schema:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise SchemaError(f"cannot read {path}: {error}") from None
    tables: dict[str, Table] = {}
    for entry in document.get("tables", []) if isinstance(document, dict) else []:
        table = _table(entry, path)
        if table.entity_set in tables:
            raise SchemaError(f"{path}: entity set {table.entity_set} is declared twice")
        tables[table.entity_set] = table
    if not tables:
        raise SchemaError(f"{path}: no tables declared")
    return Schema(tables)


def _table(entry: Any, path: Path) -> Table:
    if not isinstance(entry, dict):
        raise SchemaError(f"{path}: each table is a JSON object")
    logical = _name(entry, "logical_name", path)
    keys = []
    for key in entry.get("alternate_keys", []):
        columns = key.get("columns") if isinstance(key, dict) else None
        if not isinstance(columns, list) or not columns or not all(isinstance(c, str) for c in columns):
            raise SchemaError(f"{path}: table {logical} has an alternate key without columns")
        keys.append(AlternateKey(_name(key, "name", path), tuple(columns)))
    declared = [*entry.get("columns", []), *entry.get("test_columns", [])]
    if not all(isinstance(column, str) and column for column in declared):
        raise SchemaError(f"{path}: table {logical} has a column that is not a non-empty string")
    return Table(
        logical_name=logical,
        entity_set=_name(entry, "entity_set", path),
        primary_id=str(entry.get("primary_id") or f"{logical}id"),
        change_tracking=bool(entry.get("change_tracking", False)),
        alternate_keys=tuple(keys),
        columns=frozenset(declared),
    )


def _name(entry: Mapping[str, Any], field: str, path: Path) -> str:
    value = entry.get(field)
    if not isinstance(value, str) or not value:
        raise SchemaError(f"{path}: '{field}' must be a non-empty string in {dict(entry)}")
    return value
