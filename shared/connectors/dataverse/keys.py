"""Alternate keys in OData's URL syntax: the key predicate a write addresses, the filter a read matches.

``bs_mastercustomersites(bs_sitenumber='0123')`` addresses a row by its
alternate key; string literals are single-quoted with embedded quotes doubled,
numbers, booleans and GUIDs are bare. Dataverse cannot GET, PATCH or upsert by
a key whose value holds any of ``/ < > * % & : \\ ? +`` (Microsoft's "Work with
alternate keys"), so such a value is refused here, before a request is sent.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import quote
from uuid import UUID

UNSUPPORTED_KEY_CHARACTERS = frozenset("/<>*%&:\\?+")


class UnusableKeyError(ValueError):
    """A record's key cannot address a Dataverse row: a value is missing or Dataverse cannot take it."""


def key_of(names: Sequence[str], record: Mapping[str, Any]) -> tuple[Any, ...]:
    """The record's key values in the key's column order."""
    return tuple(record.get(name) for name in names)


def odata_literal(value: Any) -> str:
    """The OData URL literal for one value: ``'O''Brien'``, ``42``, ``true``, a bare GUID or date."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | Decimal):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise UnusableKeyError(f"{value!r} has no OData literal")
        return repr(value)
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise UnusableKeyError(f"{value.isoformat()} has no time zone; Dataverse needs one")
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    raise UnusableKeyError(f"a {type(value).__name__} cannot be an OData key value")


def key_predicate(names: Sequence[str], record: Mapping[str, Any]) -> str:
    """``name=literal`` pairs for the URL, percent-encoded, or ``UnusableKeyError`` saying why not."""
    pairs = []
    for name in names:
        value = record.get(name)
        if value is None or value == "":
            raise UnusableKeyError(f"key column {name} has no value")
        if isinstance(value, str):
            found = sorted(UNSUPPORTED_KEY_CHARACTERS.intersection(value))
            if found:
                raise UnusableKeyError(
                    f"key column {name} holds {' '.join(found)}, which Dataverse cannot take in a key URL"
                )
        pairs.append(name + "=" + quote(odata_literal(value), safe="'"))
    return ",".join(pairs)


def entity_path(entity_set: str, names: Sequence[str], record: Mapping[str, Any]) -> str:
    """``{entity_set}({key predicate})``: the row's address relative to the Web API's root."""
    return f"{entity_set}({key_predicate(names, record)})"


def key_filter(names: Sequence[str], keys: Sequence[tuple[Any, ...]]) -> str:
    """A ``$filter`` matching any of ``keys``: ``(a eq 'x' and b eq 5) or (...)``."""
    clauses = []
    for values in keys:
        terms = [f"{name} eq {odata_literal(value)}" for name, value in zip(names, values, strict=True)]
        clauses.append("(" + " and ".join(terms) + ")")
    return " or ".join(clauses)


def query_string(options: Mapping[str, str | None]) -> str:
    """System query options, percent-encoded the way OData expects (spaces as %20, never ``+``)."""
    return "&".join(
        name + "=" + quote(value, safe="'(),=:@$*/") for name, value in options.items() if value is not None
    )
