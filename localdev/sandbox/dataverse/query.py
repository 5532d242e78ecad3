"""``$filter`` and ``$orderby`` over stored rows, with the comparison rules Dataverse applies.

Supported: ``eq ne gt ge lt le``, ``and or not``, parentheses, ``contains``,
``startswith``, ``endswith``; operands are column names and literals. String
comparisons ignore case, as Dataverse's SQL collation does (it also ignores
accents; the sandbox does not). A comparison with ``null`` is true only for
``eq null`` / ``ne null`` as in OData; ordering puts nulls first when ascending,
as SQL Server does. Navigation paths and lambda operators are not implemented.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from functools import cmp_to_key
from typing import Any

from localdev.sandbox.dataverse.collation import Collation
from localdev.sandbox.dataverse.errors import bad_request, not_implemented
from localdev.sandbox.dataverse.odata_syntax import Literal, Token, split_names, tokenize
from localdev.sandbox.dataverse.store import StoredRow

Row = Mapping[str, Any]
Predicate = Callable[[Row], bool]

_COMPARISONS = frozenset({"eq", "ne", "gt", "ge", "lt", "le"})
_FUNCTIONS: dict[str, Callable[[str, str], bool]] = {
    "contains": lambda text, part: part in text,
    "startswith": str.startswith,
    "endswith": str.endswith,
}
_OPERATOR_KINDS = {
    "eq": "Equal",
    "ne": "NotEqual",
    "gt": "GreaterThan",
    "ge": "GreaterThanOrEqual",
    "lt": "LessThan",
    "le": "LessThanOrEqual",
}


def _edm_type(value: Any) -> str:
    if isinstance(value, bool):
        return "Edm.Boolean"
    if isinstance(value, int):
        return "Edm.Int32"
    if isinstance(value, float):
        return "Edm.Decimal"
    if isinstance(value, datetime):
        return "Edm.DateTimeOffset"
    if isinstance(value, date):
        return "Edm.Date"
    return "Edm.String"


def _comparable(left: Any, right: Any, operator: str, collation: Collation) -> tuple[Any, Any]:
    """Both sides brought to one type, or 400 the way Dataverse refuses mixed types."""
    if isinstance(left, str) and isinstance(right, datetime | date):
        left = _parse_temporal(left, type(right), operator, right)
    if isinstance(right, str) and isinstance(left, datetime | date):
        right = _parse_temporal(right, type(left), operator, left)
    if isinstance(left, str) and isinstance(right, str):
        return collation.fold(left), collation.fold(right)
    numbers = (int, float)
    if isinstance(left, bool) or isinstance(right, bool):
        if isinstance(left, bool) and isinstance(right, bool):
            return left, right
    elif (isinstance(left, numbers) and isinstance(right, numbers)) or type(left) is type(right):
        return left, right
    raise bad_request(
        "A binary operator with incompatible types was detected. Found operand types "
        f"'{_edm_type(left)}' and '{_edm_type(right)}' for operator kind '{_OPERATOR_KINDS[operator]}'."
    )


def _parse_temporal(text: str, kind: type, operator: str, other: Any) -> date | datetime:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise bad_request(
            "A binary operator with incompatible types was detected. Found operand types "
            f"'Edm.String' and '{_edm_type(other)}' for operator kind '{_OPERATOR_KINDS[operator]}'."
        ) from None
    if kind is date:
        return moment.date()
    # A stored time without an offset is UTC, as Dataverse keeps date-times.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def compare(operator: str, left: Any, right: Any, collation: Collation) -> bool:
    if left is None or right is None:
        if operator == "eq":
            return left is None and right is None
        if operator == "ne":
            return not (left is None and right is None)
        return False
    a, b = _comparable(left, right, operator, collation)
    if operator == "eq":
        return bool(a == b)
    if operator == "ne":
        return bool(a != b)
    if operator == "gt":
        return bool(a > b)
    if operator == "ge":
        return bool(a >= b)
    if operator == "lt":
        return bool(a < b)
    return bool(a <= b)


class _FilterParser:
    """Recursive descent: or-expression > and-expression > not > comparison or (expression)."""

    def __init__(self, text: str, collation: Collation) -> None:
        self.text = text
        self.collation = collation
        self.tokens = tokenize(text)
        self.position = 0

    def parse(self) -> Predicate:
        if not self.tokens:
            raise bad_request("The $filter expression is empty.")
        predicate = self._or()
        if self.position != len(self.tokens):
            raise bad_request(
                f"Syntax error at '{self.tokens[self.position].text}' in $filter '{self.text}'."
            )
        return predicate

    def _peek(self) -> Token | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def _take(self) -> Token:
        token = self._peek()
        if token is None:
            raise bad_request(f"The $filter '{self.text}' ends unexpectedly.")
        self.position += 1
        return token

    def _expect(self, text: str) -> None:
        token = self._take()
        if token.text != text:
            raise bad_request(f"Expected '{text}' but found '{token.text}' in $filter '{self.text}'.")

    def _is_word(self, word: str) -> bool:
        token = self._peek()
        return token is not None and token.kind == "name" and token.text == word

    def _or(self) -> Predicate:
        terms = [self._and()]
        while self._is_word("or"):
            self.position += 1
            terms.append(self._and())
        if len(terms) == 1:
            return terms[0]
        return lambda row: any(term(row) for term in terms)

    def _and(self) -> Predicate:
        terms = [self._not()]
        while self._is_word("and"):
            self.position += 1
            terms.append(self._not())
        if len(terms) == 1:
            return terms[0]
        return lambda row: all(term(row) for term in terms)

    def _not(self) -> Predicate:
        if self._is_word("not"):
            self.position += 1
            inner = self._not()
            return lambda row: not inner(row)
        return self._primary()

    def _primary(self) -> Predicate:
        token = self._peek()
        if token is not None and token.text == "(":
            self.position += 1
            inner = self._or()
            self._expect(")")
            return inner
        if token is not None and token.kind == "name" and token.text in _FUNCTIONS:
            return self._function()
        left = self._operand()
        operator = self._take()
        if operator.kind != "name" or operator.text not in _COMPARISONS:
            if operator.kind == "name" and operator.text in ("has", "in", "add", "sub", "mul", "div", "mod"):
                raise not_implemented(f"the '{operator.text}' operator in $filter")
            raise bad_request(f"Expected a comparison operator but found '{operator.text}' in '{self.text}'.")
        right = self._operand()
        op = operator.text
        collation = self.collation
        return lambda row: compare(op, left(row), right(row), collation)

    def _function(self) -> Predicate:
        name = self._take().text
        self._expect("(")
        subject = self._operand()
        self._expect(",")
        part = self._operand()
        self._expect(")")
        test = _FUNCTIONS[name]

        def apply(row: Row) -> bool:
            text, piece = subject(row), part(row)
            if not isinstance(text, str) or not isinstance(piece, str):
                return False
            return test(self.collation.fold(text), self.collation.fold(piece))

        return apply

    def _operand(self) -> Callable[[Row], Any]:
        token = self._take()
        if token.kind == "literal":
            value: Literal = token.value
            return lambda row: value
        if token.kind == "name":
            following = self._peek()
            if following is not None and following.text in ("/", "("):
                raise not_implemented(
                    "navigation paths and functions other than contains/startswith/endswith"
                )
            column = token.text
            return lambda row: row.get(column)
        raise bad_request(f"Expected a column or a value but found '{token.text}' in $filter '{self.text}'.")


def parse_filter(text: str, collation: Collation) -> Predicate:
    """A predicate over rows for a ``$filter`` expression; 400 (or 501 for what is not implemented)."""
    return _FilterParser(text, collation).parse()


def parse_orderby(text: str) -> list[tuple[str, bool]]:
    """``col [asc|desc], ...`` as (column, descending) pairs."""
    order: list[tuple[str, bool]] = []
    for clause in text.split(","):
        words = clause.split()
        if len(words) not in (1, 2) or (len(words) == 2 and words[1] not in ("asc", "desc")):
            raise bad_request(f"Could not parse $orderby clause '{clause.strip()}'.")
        (name,) = split_names(words[0], "$orderby")
        order.append((name, len(words) == 2 and words[1] == "desc"))
    return order


def _sort_value(value: Any, collation: Collation) -> tuple[int, Any]:
    if value is None:
        return (0, 0)
    if isinstance(value, bool):
        return (1, int(value))
    if isinstance(value, int | float):
        return (2, value)
    return (3, collation.fold(str(value)))


def sort_rows(rows: list[StoredRow], order: list[tuple[str, bool]], collation: Collation) -> None:
    """Sort in place by ``order``, then by primary id so pages are stable."""

    def by_order(a: StoredRow, b: StoredRow) -> int:
        for column, descending in order:
            left = _sort_value(a.data.get(column), collation)
            right = _sort_value(b.data.get(column), collation)
            if left != right:
                result = -1 if left < right else 1
                return -result if descending else result
        return (a.id > b.id) - (a.id < b.id)

    rows.sort(key=cmp_to_key(by_order))
