"""OData 4.0 URL syntax the hub sends: literals, key predicates, and the tokens ``$filter`` is built from.

Literals as OData's ABNF writes them: ``'O''Brien'`` (quotes doubled inside),
integers and decimals (an ``m``/``d``/``f``/``l`` suffix is accepted), ``true``,
``false``, ``null``, bare GUIDs, dates ``2025-05-01`` and date-times
``2025-05-01T09:30:00Z``. A key predicate is ``(<guid>)`` or
``(name=literal,name=literal)``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from localdev.sandbox.dataverse.errors import bad_request, not_implemented

Literal = str | int | float | bool | date | datetime | None

_GUID = r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}"
_TOKEN = re.compile(
    rf"""
    (?P<space>\s+)
  | (?P<string>'(?:[^']|'')*')
  | (?P<guid>{_GUID})(?![\w-])
  | (?P<datetime>\d{{4}}-\d{{2}}-\d{{2}}T\d{{2}}:\d{{2}}(?::\d{{2}}(?:\.\d+)?)?(?:Z|[+-]\d{{2}}:\d{{2}}))
  | (?P<date>\d{{4}}-\d{{2}}-\d{{2}})(?![\w:])
  | (?P<number>-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)(?P<suffix>[mMdDfFlL])?(?![\w.])
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<symbol>[(),=/])
    """,
    re.VERBOSE,
)
_KEYWORDS: dict[str, Literal] = {"true": True, "false": False, "null": None}


@dataclass(frozen=True)
class Token:
    kind: str  # "literal", "name" or "symbol"
    text: str
    value: Literal = None


def tokenize(text: str) -> list[Token]:
    """The tokens of a ``$filter`` expression or key predicate; 400 at the first character that is none."""
    tokens: list[Token] = []
    position = 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:
            raise bad_request(f"Syntax error at position {position} in '{text}'.")
        position = match.end()
        kind = match.lastgroup
        piece = match.group(0)
        if kind == "space":
            continue
        if kind == "suffix":
            kind = "number"
        tokens.append(_token(kind or "", piece, match))
    return tokens


def _token(kind: str, piece: str, match: re.Match[str]) -> Token:
    if kind == "string":
        return Token("literal", piece, piece[1:-1].replace("''", "'"))
    if kind == "guid":
        return Token("literal", piece, piece.lower())
    if kind == "datetime":
        return Token("literal", piece, datetime.fromisoformat(piece.replace("Z", "+00:00")))
    if kind == "date":
        return Token("literal", piece, date.fromisoformat(piece))
    if kind == "number":
        digits = match.group("number")
        is_integer = re.fullmatch(r"-?\d+", digits) is not None
        return Token("literal", piece, int(digits) if is_integer else float(digits))
    if kind == "name" and piece in _KEYWORDS:
        return Token("literal", piece, _KEYWORDS[piece])
    return Token(kind, piece)


@dataclass(frozen=True)
class KeyPredicate:
    """What a ``set(...)`` segment addresses: a bare id, or named values (alternate key or named id)."""

    row_id: str | None
    values: dict[str, Literal]


def parse_key_predicate(text: str) -> KeyPredicate:
    """``<guid>`` or ``name=literal[,name=literal]`` (the text between the parentheses)."""
    tokens = tokenize(text)
    if len(tokens) == 1 and tokens[0].kind == "literal":
        value = tokens[0].value
        if not isinstance(value, str) or re.fullmatch(_GUID, tokens[0].text) is None:
            raise bad_request(f"Unrecognized key '{text}': a key without a name must be the row's GUID.")
        return KeyPredicate(value, {})
    values: dict[str, Literal] = {}
    index = 0
    while index < len(tokens):
        chunk = tokens[index : index + 3]
        if len(chunk) < 3 or chunk[0].kind != "name" or chunk[1].text != "=" or chunk[2].kind != "literal":
            raise bad_request(f"Bad key predicate '({text})': expected name=value pairs separated by commas.")
        if chunk[0].text in values:
            raise bad_request(f"Bad key predicate '({text})': {chunk[0].text} appears twice.")
        values[chunk[0].text] = chunk[2].value
        index += 3
        if index < len(tokens):
            if tokens[index].text != ",":
                raise bad_request(f"Bad key predicate '({text})': expected ',' between key values.")
            index += 1
            if index == len(tokens):
                raise bad_request(f"Bad key predicate '({text})': it ends with ','.")
    if not values:
        raise bad_request("An empty key predicate '()' addresses no row.")
    return KeyPredicate(None, values)


def literal_text(value: Any) -> str:
    """The OData URL literal for a stored key value, for ``OData-EntityId`` links."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, int | float):
        return repr(value)
    text = str(value)
    if re.fullmatch(_GUID, text):
        return text
    return "'" + text.replace("'", "''") + "'"


def split_names(text: str, option: str) -> list[str]:
    """A comma-separated list of column names, as ``$select`` takes."""
    names = [part.strip() for part in text.split(",")]
    for name in names:
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            if "/" in name or "(" in name:
                raise not_implemented(f"paths in {option}")
            raise bad_request(f"Could not parse '{name}' in {option}: a column's logical name was expected.")
    return names
