"""The part of SOQL the hub sends, parsed and run over the sandbox org's records.

``SELECT f, ... FROM Object [WHERE a op v AND ...] [ORDER BY f [ASC|DESC], ...] [LIMIT n]``,
with string, number, boolean, null, date and datetime literals (Salesforce's
"SOQL and SOSL Reference", "WHERE" and "Date Formats and Date Literals").
Anything else answers ``MALFORMED_QUERY`` as Salesforce does; a field the
object does not have answers ``INVALID_FIELD``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>'(?:[^'\\]|\\.)*')
      | (?P<datetime>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,3})?(?:Z|[+-]\d{2}:?\d{2}))
      | (?P<date>\d{4}-\d{2}-\d{2})
      | (?P<number>-?\d+(?:\.\d+)?)
      | (?P<op><=|>=|!=|<>|=|<|>|,)
      | (?P<word>[A-Za-z_][A-Za-z0-9_.]*)
    )""",
    re.VERBOSE,
)
_OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "=": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<>": lambda a, b: a != b,
    "<": lambda a, b: a is not None and b is not None and a < b,
    "<=": lambda a, b: a is not None and b is not None and a <= b,
    ">": lambda a, b: a is not None and b is not None and a > b,
    ">=": lambda a, b: a is not None and b is not None and a >= b,
}


class SoqlError(ValueError):
    """A query Salesforce would refuse, with the error code it would answer."""

    def __init__(self, message: str, code: str = "MALFORMED_QUERY") -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Condition:
    field: str
    operator: str
    value: Any

    def holds(self, record: Mapping[str, Any]) -> bool:
        actual = record.get(self.field)
        expected = self.value
        if isinstance(actual, str) and isinstance(expected, str) and self.operator in ("=", "!=", "<>"):
            actual, expected = actual.casefold(), expected.casefold()  # SOQL compares text case-insensitively
        if isinstance(actual, datetime) and isinstance(expected, datetime):
            # Salesforce ignores milliseconds when it compares datetimes (they are stored, not compared).
            actual, expected = actual.replace(microsecond=0), expected.replace(microsecond=0)
        elif isinstance(actual, datetime) and isinstance(expected, date):
            actual = actual.date()
        return _OPERATORS[self.operator](actual, expected)


@dataclass(frozen=True)
class Query:
    fields: tuple[str, ...]
    sobject: str
    where: tuple[Condition, ...]
    order_by: tuple[tuple[str, bool], ...]  # (field, descending)
    limit: int | None

    def run(self, records: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
        chosen = [record for record in records if all(c.holds(record) for c in self.where)]
        for field, descending in reversed(self.order_by):
            chosen.sort(key=lambda record: _sortable(record.get(field)), reverse=descending)
        return chosen if self.limit is None else chosen[: self.limit]


def parse(text: str, known_fields: Callable[[str], frozenset[str] | None]) -> Query:
    """The query ``text``; ``known_fields(object)`` gives an object's fields, None for an unknown object."""
    tokens = _tokens(text)
    reader = _Reader(tokens)
    reader.expect_word("SELECT")
    fields = [reader.word()]
    while reader.take(","):
        fields.append(reader.word())
    reader.expect_word("FROM")
    sobject = reader.word()
    known = known_fields(sobject)
    if known is None:
        raise SoqlError(f"sObject type '{sobject}' is not supported.", "INVALID_TYPE")
    where: list[Condition] = []
    if reader.take_word("WHERE"):
        where.append(reader.condition())
        while reader.take_word("AND"):
            where.append(reader.condition())
    order: list[tuple[str, bool]] = []
    if reader.take_word("ORDER"):
        reader.expect_word("BY")
        order.append(reader.ordering())
        while reader.take(","):
            order.append(reader.ordering())
    limit = int(reader.number()) if reader.take_word("LIMIT") else None
    if not reader.done:
        raise SoqlError(f"unexpected token: '{reader.peek()}'")
    named = [*fields, *(c.field for c in where), *(f for f, _ in order)]
    for field in named:
        if field not in known:
            raise SoqlError(
                f"No such column '{field}' on entity '{sobject}'. If you are attempting to use a custom "
                "field, be sure to append the '__c' after the custom field name.",
                "INVALID_FIELD",
            )
    return Query(tuple(fields), sobject, tuple(where), tuple(order), limit)


def _tokens(text: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    position = 0
    while position < len(text):
        if text[position:].strip() == "":
            break
        match = _TOKEN.match(text, position)
        if match is None or match.lastgroup is None:
            raise SoqlError(f"unexpected text at position {position}: '{text[position : position + 20]}'")
        tokens.append((match.lastgroup, match.group(match.lastgroup)))
        position = match.end()
    return tokens


class _Reader:
    def __init__(self, tokens: list[tuple[str, str]]) -> None:
        self._tokens = tokens
        self._at = 0

    @property
    def done(self) -> bool:
        return self._at >= len(self._tokens)

    def peek(self) -> str:
        return self._tokens[self._at][1] if not self.done else ""

    def _next(self) -> tuple[str, str]:
        if self.done:
            raise SoqlError("unexpected end of query")
        token = self._tokens[self._at]
        self._at += 1
        return token

    def word(self) -> str:
        kind, text = self._next()
        if kind != "word":
            raise SoqlError(f"expected a name, found '{text}'")
        return text

    def number(self) -> str:
        kind, text = self._next()
        if kind != "number":
            raise SoqlError(f"expected a number, found '{text}'")
        return text

    def take(self, operator: str) -> bool:
        if not self.done and self._tokens[self._at] == ("op", operator):
            self._at += 1
            return True
        return False

    def take_word(self, word: str) -> bool:
        if not self.done and self._tokens[self._at][0] == "word" and self.peek().upper() == word:
            self._at += 1
            return True
        return False

    def expect_word(self, word: str) -> None:
        if not self.take_word(word):
            raise SoqlError(f"expected {word}, found '{self.peek()}'")

    def ordering(self) -> tuple[str, bool]:
        field = self.word()
        if self.take_word("DESC"):
            return field, True
        self.take_word("ASC")
        return field, False

    def condition(self) -> Condition:
        field = self.word()
        kind, operator = self._next()
        if kind != "op" or operator not in _OPERATORS:
            raise SoqlError(f"expected a comparison after {field}, found '{operator}'")
        return Condition(field, operator, self.literal())

    def literal(self) -> Any:
        kind, text = self._next()
        if kind == "string":
            return re.sub(r"\\(.)", r"\1", text[1:-1])
        if kind == "number":
            return float(text) if "." in text else int(text)
        if kind == "datetime":
            return parse_datetime(text)
        if kind == "date":
            return date.fromisoformat(text)
        if kind == "word" and text.lower() in ("true", "false"):
            return text.lower() == "true"
        if kind == "word" and text.lower() == "null":
            return None
        raise SoqlError(f"expected a value, found '{text}'")


def parse_datetime(text: str) -> datetime:
    """A SOQL or REST datetime (``2026-12-03T13:55:00Z``, ``...00.000+0000``) as an aware UTC datetime."""
    normalised = text.replace("Z", "+00:00")
    if re.search(r"[+-]\d{4}$", normalised):
        normalised = normalised[:-2] + ":" + normalised[-2:]
    return datetime.fromisoformat(normalised).astimezone(UTC)


def _sortable(value: Any) -> tuple[int, Any]:
    """Nulls first, as SOQL sorts ascending by default (NULLS FIRST)."""
    if value is None:
        return (0, "")
    if isinstance(value, datetime):
        return (1, value.timestamp())
    if isinstance(value, date):
        return (1, value.toordinal())
    if isinstance(value, bool):
        return (1, int(value))
    return (1, value)
