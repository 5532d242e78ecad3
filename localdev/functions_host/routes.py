"""HTTP trigger routes as the Functions host matches them: ASP.NET Core route templates.

A template such as ``sites/{site_id:int}/statements/{month:regex(^\\d{{4}}-\\d{{2}}$)?}``
has literal segments (matched case-insensitively), parameters, optional
parameters (``{name?}``), defaults (``{name=value}``), catch-alls (``{*rest}``)
and constraints chained with ``:``. A value that breaks a constraint means the
route does not match, so the caller answers 404 exactly as ASP.NET does.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation

Constraint = Callable[[str], bool]

_INT32 = (-(2**31), 2**31 - 1)
_INT64 = (-(2**63), 2**63 - 1)
_INTEGER = re.compile(r"^\s*[+-]?\d+\s*$")
_NUMBER = re.compile(r"^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$")
_ALPHA = re.compile(r"^[a-z]*$", re.IGNORECASE)
_CONSTRAINT = re.compile(r"^([A-Za-z]+)(?:\((.*)\))?$", re.DOTALL)


class RouteTemplateError(ValueError):
    """A route template the host cannot serve; the message says what is wrong with it."""


def _integer_within(low: int, high: int) -> Constraint:
    return lambda value: bool(_INTEGER.match(value)) and low <= int(value) <= high


def _is_decimal(value: str) -> bool:
    try:
        Decimal(value.strip())
    except InvalidOperation:
        return False
    return bool(_NUMBER.match(value))


def _is_datetime(value: str) -> bool:
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


def _is_guid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def _arguments(name: str, argument: str | None, count: int) -> list[str]:
    values = [] if argument is None else [part.strip() for part in argument.split(",")]
    if len(values) != count:
        raise RouteTemplateError(f"constraint '{name}' takes {count} argument(s)")
    return values


def _long_arguments(name: str, argument: str | None, count: int) -> list[int]:
    try:
        return [int(value) for value in _arguments(name, argument, count)]
    except ValueError as error:
        raise RouteTemplateError(f"constraint '{name}' needs whole-number arguments") from error


def _constraint(text: str) -> Constraint:
    """One inline constraint, named as ASP.NET Core names them."""
    match = _CONSTRAINT.match(text)
    if match is None:
        raise RouteTemplateError(f"'{text}' is not a route constraint")
    name, argument = match.group(1).lower(), match.group(2)
    simple: dict[str, Constraint] = {
        "int": _integer_within(*_INT32),
        "long": _integer_within(*_INT64),
        "bool": lambda value: value.lower() in ("true", "false"),
        "decimal": _is_decimal,
        "double": lambda value: bool(_NUMBER.match(value)),
        "float": lambda value: bool(_NUMBER.match(value)),
        "datetime": _is_datetime,
        "guid": _is_guid,
        "alpha": lambda value: bool(_ALPHA.match(value)),
        "required": lambda value: value != "",
        "file": lambda value: "." in value.rsplit("/", 1)[-1],
        "nonfile": lambda value: "." not in value.rsplit("/", 1)[-1],
    }
    if name in simple:
        _arguments(name, argument, 0)
        return simple[name]
    if name == "regex":
        if argument is None:
            raise RouteTemplateError("constraint 'regex' needs a pattern")
        try:
            # Templates escape braces by doubling them; ASP.NET's Regex.IsMatch is unanchored
            # unless the pattern anchors itself.
            pattern = re.compile(argument.replace("{{", "{").replace("}}", "}"), re.IGNORECASE)
        except re.error as error:
            raise RouteTemplateError(f"regex({argument}) is not a valid pattern: {error}") from error
        return lambda value: pattern.search(value) is not None
    if name in ("minlength", "maxlength"):
        (bound,) = _long_arguments(name, argument, 1)
        return (lambda v: len(v) >= bound) if name == "minlength" else (lambda v: len(v) <= bound)
    if name == "length":
        bounds = _long_arguments(name, argument, 2 if argument and "," in argument else 1)
        low, high = (bounds[0], bounds[0]) if len(bounds) == 1 else (bounds[0], bounds[1])
        return lambda value: low <= len(value) <= high
    if name in ("min", "max"):
        (bound,) = _long_arguments(name, argument, 1)
        return _integer_within(bound, _INT64[1]) if name == "min" else _integer_within(_INT64[0], bound)
    if name == "range":
        low, high = _long_arguments(name, argument, 2)
        return _integer_within(low, high)
    raise RouteTemplateError(f"'{name}' is not a route constraint the Functions host knows")


@dataclass(frozen=True)
class RouteParameter:
    name: str
    constraints: tuple[Constraint, ...]
    optional: bool
    catch_all: bool
    default: str | None

    def accepts(self, value: str) -> bool:
        return all(constraint(value) for constraint in self.constraints)


def _split_parameter_parts(body: str) -> list[str]:
    """Split ``name:c1:c2(args)`` on the colons that are not inside a constraint's parentheses."""
    parts: list[str] = []
    current: list[str] = []
    depth = 0
    for char in body:
        if char == ":" and depth == 0:
            parts.append("".join(current))
            current = []
            continue
        depth += {"(": 1, ")": -1}.get(char, 0)
        current.append(char)
    parts.append("".join(current))
    return parts


def _parameter(body: str) -> RouteParameter:
    catch_all = body.startswith("*")
    body = body.lstrip("*")
    optional = False
    default = None
    name_part, *constraint_parts = _split_parameter_parts(body)
    tail = constraint_parts[-1] if constraint_parts else name_part
    if tail.endswith("?"):
        optional, tail = True, tail[:-1]
    elif "=" in tail and not tail.endswith(")"):
        tail, default = tail.split("=", 1)
    if constraint_parts:
        constraint_parts[-1] = tail
    else:
        name_part = tail
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name_part):
        raise RouteTemplateError(f"'{name_part}' is not a route parameter name")
    constraints = tuple(_constraint(part) for part in constraint_parts)
    return RouteParameter(name_part, constraints, optional or catch_all, catch_all, default)


def _segment_parts(segment: str) -> list[str | RouteParameter]:
    """A segment's literal text and parameters, in order; ``{{`` and ``}}`` are literal braces."""
    parts: list[str | RouteParameter] = []
    index, literal = 0, ""
    while index < len(segment):
        start = segment.find("{", index)
        if start < 0:
            literal += segment[index:]
            break
        literal += segment[index:start]
        if segment.startswith("{{", start):
            literal += "{"
            index = start + 2
            continue
        if literal:
            parts.append(literal.replace("}}", "}"))
            literal = ""
        depth, end = 0, start
        for end in range(start + 1, len(segment)):
            char = segment[end]
            depth += {"(": 1, ")": -1}.get(char, 0)
            if char == "}" and depth == 0:
                break
        else:
            raise RouteTemplateError(f"segment '{segment}' has an unclosed '{{'")
        parts.append(_parameter(segment[start + 1 : end]))
        index = end + 1
    if literal:
        parts.append(literal.replace("}}", "}"))
    return parts


class RouteTemplate:
    """One route: whether a request path matches it, and the route parameters it binds."""

    def __init__(self, template: str) -> None:
        self.template = template.strip().removeprefix("~").strip("/")
        self._parameters: dict[str, RouteParameter] = {}
        self._groups: dict[str, str] = {}  # regex group → parameter name: names need not be identifiers
        pattern, ranks = [], []
        segments = self.template.split("/") if self.template else []
        for position, segment in enumerate(segments):
            parts = _segment_parts(segment)
            catch_all = any(isinstance(part, RouteParameter) and part.catch_all for part in parts)
            if catch_all and position < len(segments) - 1:
                raise RouteTemplateError(f"route '{template}': a catch-all must be the last segment")
            pattern.append(self._segment_pattern(parts))
            ranks.append(self._segment_rank(parts))
        self._regex = re.compile("^" + "".join(pattern) + "/?$", re.IGNORECASE | re.DOTALL)
        # ASP.NET tries literal segments before constrained parameters before bare ones before catch-alls.
        self.precedence = (tuple(ranks), -len(ranks))

    def _segment_pattern(self, parts: list[str | RouteParameter]) -> str:
        if len(parts) == 1 and isinstance(parts[0], RouteParameter):
            parameter = parts[0]
            group = self._group(parameter)
            value = ".*" if parameter.catch_all else "[^/]+"
            if parameter.optional or parameter.default is not None:
                return f"(?:/(?P<{group}>{value}))?"
            return f"/(?P<{group}>{value})"
        pieces = []
        for part in parts:
            if isinstance(part, RouteParameter):
                if part.catch_all or part.optional:
                    raise RouteTemplateError(
                        f"route '{self.template}': optional and catch-all parameters need their own segment"
                    )
                # Greedy, as ASP.NET matches complex segments from the right: {name}.{ext} on a.b.c → a.b, c.
                pieces.append(f"(?P<{self._group(part)}>[^/]+)")
            else:
                pieces.append(re.escape(part))
        return "/" + "".join(pieces)

    def _group(self, parameter: RouteParameter) -> str:
        if parameter.name.lower() in (name.lower() for name in self._parameters):
            raise RouteTemplateError(f"route '{self.template}' names parameter '{parameter.name}' twice")
        group = f"p{len(self._groups)}"
        self._groups[group] = parameter.name
        self._parameters[parameter.name] = parameter
        return group

    @staticmethod
    def _segment_rank(parts: list[str | RouteParameter]) -> int:
        if len(parts) > 1:
            return 2
        part = parts[0]
        if isinstance(part, str):
            return 1
        if part.catch_all:
            return 5
        return 3 if part.constraints else 4

    def match(self, path: str) -> dict[str, str] | None:
        """The route parameters when ``path`` (decoded, starting with ``/``) matches; else ``None``."""
        found = self._regex.match(path)
        if found is None:
            return None
        values: dict[str, str] = {}
        for group, name in self._groups.items():
            parameter = self._parameters[name]
            value = found.group(group)
            if value is None or value == "":
                if parameter.default is not None:
                    values[name] = parameter.default
                continue
            if not parameter.accepts(value):
                return None
            values[name] = value
        return values
