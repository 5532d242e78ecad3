"""The KQL in ``infra/`` Bicep, read out of the files and checked against the names the code emits.

An alert whose query names a metric, dimension, span or outcome the code
does not write never fires, and nothing says so; a workbook chart stays
empty. So every query is read out of the Bicep (``'''...'''`` strings and
one-line ``'...'`` strings that begin with a table) and each name in it is
looked up in ``shared/telemetry/names.py`` (``Catalogue``):

- ``customMetrics``: ``name == "..."`` / ``name in (...)`` must be a declared
  metric, and ``customDimensions["..."]`` one of that metric's dimensions;
- ``requests`` / ``dependencies``: ``name`` must be a declared span name, and
  each dimension a declared attribute key;
- ``traces`` / ``exceptions``: each dimension a declared attribute key (the log
  records' custom dimensions);
- an outcome or row stage compared with a literal (``outcome in ("failed")``
  after ``outcome = tostring(customDimensions["hub.outcome"])``) must be a
  value the code records for that metric.

A name belongs to the table named nearest before it, so ``union requests,
dependencies | where name == ...`` and a ``join (exceptions | ...)`` are read
as an admin would read them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from shared.pipeline.run_record import RunStatus
from shared.telemetry import names
from shared.workflows.gp_posting.poster import PostingStatus

SPAN_TABLES = frozenset({"requests", "dependencies"})
LOG_TABLES = frozenset({"traces", "exceptions"})
METRIC_TABLE = "customMetrics"
_TABLE = re.compile(r"\b(customMetrics|requests|dependencies|traces|exceptions)\b")
_KQL_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'')
_LITERAL = re.compile(r'"((?:[^"\\]|\\.)*)"')
_NAME_EQUALS = re.compile(r'\bname\s*==\s*"([^"]*)"')
_NAME_IN = re.compile(r"\bname\s+in\s*\(([^)]*)\)")
_DIMENSION = re.compile(r"customDimensions\s*(?:\[\s*[\"']([^\"']*)[\"']\s*\]|\.([A-Za-z_][\w]*))")
_ALIAS = re.compile(r"\b([A-Za-z_]\w*)\s*=\s*\w+\(\s*customDimensions\s*\[\s*\"([^\"]*)\"\s*\]\s*\)")


@dataclass(frozen=True)
class Catalogue:
    """What the code emits: metrics with their dimensions, span names, attribute keys and known values."""

    metrics: Mapping[str, tuple[str, ...]]
    spans: frozenset[str]
    attributes: frozenset[str]
    # attribute key -> metric name -> the values the code records under it
    values: Mapping[str, Mapping[str, frozenset[str]]] = field(default_factory=dict)

    @classmethod
    def from_code(cls) -> Catalogue:
        constants = {key: value for key, value in vars(names).items() if key.isupper()}
        finished_runs = frozenset(status.value for status in RunStatus if status.finished)
        postings = frozenset(status.value for status in PostingStatus)
        row_stages = frozenset(names.ROW_STAGES)
        return cls(
            metrics={metric.name: metric.dimensions for metric in names.METRICS},
            spans=frozenset(value for key, value in constants.items() if key.startswith("SPAN_")),
            attributes=frozenset(
                value
                for key, value in constants.items()
                if isinstance(value, str) and not key.startswith("SPAN_")
            ),
            values={
                names.OUTCOME: {
                    names.RUNS_SETTLED.name: finished_runs,
                    names.RUN_DURATION.name: finished_runs,
                    names.GP_DOCUMENTS.name: postings,
                    names.GP_AMOUNT.name: postings,
                },
                names.ROW_STAGE: {names.ROWS_MOVED.name: row_stages},
            },
        )


def queries_in(bicep: str) -> list[str]:
    """Every KQL query in a Bicep file's text: its ``'''`` strings, and one-line strings that start with a table."""
    found = []
    for literal, multiline in _bicep_strings(bicep):
        text = literal if multiline else literal.replace("\\'", "'")
        if multiline or _TABLE.match(text.lstrip()):
            found.append(text)
    return found


def _bicep_strings(bicep: str) -> Iterator[tuple[str, bool]]:
    """Each string literal's text and whether it was ``'''`` multi-line; comments are skipped."""
    at = 0
    while at < len(bicep):
        if bicep.startswith("//", at):
            at = _end_of(bicep, "\n", at)
        elif bicep.startswith("/*", at):
            at = _end_of(bicep, "*/", at)
        elif bicep.startswith("'''", at):
            end = bicep.index("'''", at + 3)
            yield bicep[at + 3 : end], True
            at = end + 3
        elif bicep[at] == "'":
            end = at + 1
            while bicep[end] != "'":
                end += 2 if bicep[end] == "\\" else 1
            yield bicep[at + 1 : end], False
            at = end + 1
        else:
            at += 1


def _end_of(text: str, marker: str, start: int) -> int:
    found = text.find(marker, start)
    return len(text) if found < 0 else found + len(marker)


def unknown_names(query: str, catalogue: Catalogue) -> list[str]:
    """What ``query`` names that the code does not emit, each in a sentence; empty when it reads only emitted names."""
    problems = []
    for table, segment in _segments(query):
        metrics = [*_NAME_EQUALS.findall(segment), *(_in_list(segment))]
        dimensions = [bracketed or dotted for bracketed, dotted in _DIMENSION.findall(segment)]
        if table == METRIC_TABLE:
            problems += _metric_problems(metrics, dimensions, segment, catalogue)
        elif table in SPAN_TABLES:
            problems += [
                f"span {name!r} is not a span names.py declares"
                for name in metrics
                if name not in catalogue.spans
            ]
            problems += _attribute_problems(dimensions, catalogue, "span attribute")
        elif table in LOG_TABLES:
            problems += _attribute_problems(dimensions, catalogue, "log dimension")
    return problems


def _segments(query: str) -> Iterator[tuple[str, str]]:
    """The query cut at each table name (outside string literals), each piece with the table it reads."""
    masked = _KQL_STRING.sub(lambda literal: " " * len(literal.group()), query)
    starts = [(match.start(), match.group(1)) for match in _TABLE.finditer(masked)]
    for index, (start, table) in enumerate(starts):
        end = starts[index + 1][0] if index + 1 < len(starts) else len(query)
        yield table, query[start:end]


def _in_list(segment: str) -> list[str]:
    return [name for listed in _NAME_IN.findall(segment) for name in _LITERAL.findall(listed)]


def _metric_problems(
    metrics: list[str], dimensions: list[str], segment: str, catalogue: Catalogue
) -> list[str]:
    if not metrics:
        return ["a customMetrics query that names no metric (name == ...) reads every metric"]
    problems = [
        f"metric {name!r} is not a metric names.py declares"
        for name in metrics
        if name not in catalogue.metrics
    ]
    known = [name for name in metrics if name in catalogue.metrics]
    carried = {dimension for name in known for dimension in catalogue.metrics[name]}
    problems += [
        f"dimension {dimension!r} is not one that {', '.join(known) or 'its metric'} carries"
        for dimension in dimensions
        if dimension not in carried
    ]
    for alias, dimension in _ALIAS.findall(segment):
        recorded = catalogue.values.get(dimension)
        if recorded is None:
            continue
        allowed = frozenset().union(*(recorded.get(name, frozenset()) for name in known))
        for value in _compared_values(alias, segment):
            if value not in allowed:
                problems.append(
                    f"{dimension} {value!r} is not a value the code records for {', '.join(known)}"
                )
    return problems


def _compared_values(alias: str, segment: str) -> list[str]:
    """The literals ``alias`` is compared with: ``alias == "x"``, ``alias in ("x", "y")``, ``alias != "x"``."""
    single = re.findall(rf'\b{alias}\s*[!=]=\s*"([^"]*)"', segment)
    listed = re.findall(rf"\b{alias}\s+!?in\s*\(([^)]*)\)", segment)
    return [*single, *(value for values in listed for value in _LITERAL.findall(values))]


def _attribute_problems(dimensions: list[str], catalogue: Catalogue, kind: str) -> list[str]:
    return [
        f"{kind} {dimension!r} is not an attribute key names.py declares"
        for dimension in dimensions
        if dimension not in catalogue.attributes
    ]
