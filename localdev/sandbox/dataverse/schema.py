"""The sandbox environment's tables: entity set names, primary ids, columns and alternate keys, from ``tables.json``.

``tables.json`` holds Towne Park's tables as its solution declares them (and
the keys and columns the hub needed first). Each file in ``proposed/`` holds
what one area of the hub asks an admin to create: whole tables, and columns
and alternate keys on existing ones, each with the reason it exists
(``why``), so the README's list of hub-proposed names can be checked against
them and nothing the hub writes is undeclared.

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
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

DEFAULT_TABLES = Path(__file__).with_name("tables.json")
PROPOSED_FOLDER = Path(__file__).with_name("proposed")
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


@dataclass(frozen=True)
class Proposal:
    """One name the hub asks an admin to create, and why (from a file in ``proposed/``)."""

    table: str  # logical name
    name: str  # the table itself, a column or an alternate key
    kind: str  # "table", "column" or "alternate key"
    why: str


def load_schema(path: Path = DEFAULT_TABLES, proposed: Path | None = PROPOSED_FOLDER) -> Schema:
    """Towne Park's tables from ``path``, with every file in ``proposed`` merged in."""
    tables: dict[str, Table] = {}
    for entry in _document(path).get("tables", []):
        _add(tables, _table(entry, path), path)
    for file in _proposal_files(proposed):
        document = _document(file)
        for entry in document.get("tables", []):
            _add(tables, _table(entry, file), file)
        for logical, columns in document.get("columns", {}).items():
            _extend(tables, logical, file, columns=tuple(columns))
        for logical, keys in document.get("alternate_keys", {}).items():
            _extend(tables, logical, file, keys=tuple(_key(key, logical, file) for key in keys))
    if not tables:
        raise SchemaError(f"{path}: no tables declared")
    return Schema(tables)


def load_proposals(proposed: Path = PROPOSED_FOLDER) -> list[Proposal]:
    """Every hub-proposed table, column and key, each with its reason; a name without one is refused."""
    found: list[Proposal] = []
    for file in _proposal_files(proposed):
        document = _document(file)
        for entry in document.get("tables", []):
            logical = _name(entry, "logical_name", file)
            found.append(Proposal(logical, logical, "table", _name(entry, "why", file)))
        for logical, columns in document.get("columns", {}).items():
            if not isinstance(columns, dict):
                raise SchemaError(f"{file}: columns of {logical} must map each name to why it exists")
            found.extend(
                Proposal(logical, name, "column", _why(why, name, file)) for name, why in columns.items()
            )
        for logical, keys in document.get("alternate_keys", {}).items():
            for key in keys:
                found.append(
                    Proposal(logical, _name(key, "name", file), "alternate key", _name(key, "why", file))
                )
    return found


def _proposal_files(folder: Path | None) -> list[Path]:
    return sorted(folder.glob("*.json")) if folder is not None and folder.is_dir() else []


def _document(path: Path) -> dict[str, Any]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise SchemaError(f"cannot read {path}: {error}") from None
    if not isinstance(document, dict):
        raise SchemaError(f"{path}: the file must hold a JSON object")
    return document


def _add(tables: dict[str, Table], table: Table, path: Path) -> None:
    if table.entity_set in tables:
        raise SchemaError(f"{path}: entity set {table.entity_set} is declared twice")
    tables[table.entity_set] = table


def _extend(
    tables: dict[str, Table],
    logical: str,
    path: Path,
    columns: tuple[str, ...] = (),
    keys: tuple[AlternateKey, ...] = (),
) -> None:
    """Add proposed columns or keys to a table declared earlier, refusing a table nobody declared."""
    for entity_set, table in tables.items():
        if table.logical_name == logical:
            tables[entity_set] = replace(
                table,
                columns=table.columns | frozenset(columns),
                alternate_keys=(*table.alternate_keys, *keys),
            )
            return
    raise SchemaError(f"{path}: proposes columns or keys for {logical}, which no file declares")


def _why(value: Any, name: str, path: Path) -> str:
    if not isinstance(value, str) or not value.strip():
        raise SchemaError(f"{path}: proposed column {name} must say why it exists")
    return value


def _table(entry: Any, path: Path) -> Table:
    if not isinstance(entry, dict):
        raise SchemaError(f"{path}: each table is a JSON object")
    logical = _name(entry, "logical_name", path)
    keys = [_key(key, logical, path) for key in entry.get("alternate_keys", [])]
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


def _key(key: Any, logical: str, path: Path) -> AlternateKey:
    columns = key.get("columns") if isinstance(key, dict) else None
    if not isinstance(columns, list) or not columns or not all(isinstance(c, str) for c in columns):
        raise SchemaError(f"{path}: table {logical} has an alternate key without columns")
    return AlternateKey(_name(key, "name", path), tuple(columns))


def _name(entry: Mapping[str, Any], field: str, path: Path) -> str:
    value = entry.get(field)
    if not isinstance(value, str) or not value:
        raise SchemaError(f"{path}: '{field}' must be a non-empty string in {dict(entry)}")
    return value
