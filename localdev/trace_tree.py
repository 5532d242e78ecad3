"""``python -m localdev trace <run id>``: a run's spans, as ``make run`` wrote them, drawn as a tree.

The local hub writes its telemetry as JSON lines into ``LOCAL_TELEMETRY_FOLDER``
(``shared/telemetry/startup.py``), one span a line as the OpenTelemetry SDK
serialises it. Every trace with a span that carries the run's id
(``hub.run_id``) is drawn: the API call or timer that queued it, the sync
request, the extraction and its SQL queries and staged batches, each batch
load and its Dataverse ``$batch`` calls — each line with its service, name,
duration as a bar on the trace's time line, and status. What an admin sees
in App Insights' transaction view, in the terminal.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from shared.telemetry import names
from shared.telemetry.startup import LOGS_FILE, METRICS_FILE, SPANS_FILE

BAR_WIDTH = 30


@dataclass
class SpanLine:
    """One exported span: the fields the tree needs."""

    name: str
    trace_id: str
    span_id: str
    parent_id: str | None
    start: datetime
    end: datetime
    status: str
    service: str
    attributes: dict[str, Any]
    children: list[SpanLine] = field(default_factory=list)

    @property
    def seconds(self) -> float:
        return (self.end - self.start).total_seconds()

    @classmethod
    def from_json(cls, line: dict[str, Any]) -> SpanLine:
        return cls(
            name=line["name"],
            trace_id=line["context"]["trace_id"],
            span_id=line["context"]["span_id"],
            parent_id=line.get("parent_id"),
            start=datetime.fromisoformat(line["start_time"]),
            end=datetime.fromisoformat(line["end_time"]),
            status=line.get("status", {}).get("status_code", "UNSET"),
            service=line.get("resource", {}).get("attributes", {}).get("service.name", "?"),
            attributes=dict(line.get("attributes") or {}),
        )


def json_lines(path: Path) -> Iterator[dict[str, Any]]:
    """Each complete JSON line of an exporter's file; a line still being written is skipped."""
    if not path.exists():
        return
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            try:
                yield json.loads(line)
            except json.JSONDecodeError:
                continue


def read_spans(folder: Path) -> list[SpanLine]:
    return [SpanLine.from_json(line) for line in json_lines(folder / SPANS_FILE)]


def read_logs(folder: Path) -> list[dict[str, Any]]:
    return list(json_lines(folder / LOGS_FILE))


def read_metrics(folder: Path) -> list[dict[str, Any]]:
    return list(json_lines(folder / METRICS_FILE))


def traces_of_run(spans: Iterable[SpanLine], run_id: str) -> dict[str, list[SpanLine]]:
    """Every span of every trace in which some span carries ``run_id``, by trace id."""
    by_trace: dict[str, list[SpanLine]] = defaultdict(list)
    for span in spans:
        by_trace[span.trace_id].append(span)
    return {
        trace_id: found
        for trace_id, found in by_trace.items()
        if any(span.attributes.get(names.RUN_ID) == run_id for span in found)
    }


def roots(spans: list[SpanLine]) -> list[SpanLine]:
    """The trace's spans linked to their parents; the ones with no parent here, oldest first."""
    by_id = {span.span_id: span for span in spans}
    top: list[SpanLine] = []
    for span in sorted(spans, key=lambda s: s.start):
        parent = by_id.get(span.parent_id or "")
        (parent.children if parent is not None else top).append(span)
    return top


def draw(spans: list[SpanLine]) -> list[str]:
    """The tree as text lines: indentation for depth, a bar placed on the trace's time line."""
    if not spans:
        return []
    first = min(span.start for span in spans)
    total = max((max(span.end for span in spans) - first).total_seconds(), 1e-6)
    lines: list[str] = []

    def walk(span: SpanLine, depth: int) -> None:
        offset = round((span.start - first).total_seconds() / total * BAR_WIDTH)
        length = max(1, round(span.seconds / total * BAR_WIDTH))
        bar = (" " * offset + "█" * length).ljust(BAR_WIDTH)[:BAR_WIDTH]
        label = ("  " * depth + span.name)[:44]
        detail = _detail(span)
        status = "ERROR" if span.status == "ERROR" else "ok"
        lines.append(
            f"{label:<44} {span.service:<16} |{bar}| {span.seconds * 1000:9.1f} ms  {status:<5} {detail}"
        )
        for child in span.children:
            walk(child, depth + 1)

    for root in roots(spans):
        walk(root, 0)
    return lines


def _detail(span: SpanLine) -> str:
    shown = (names.FUNCTION_NAME, names.STREAM, names.BATCH_ID, names.RECORDS, names.ROWS, names.HTTP_STATUS)
    return " ".join(f"{key.split('.')[-1]}={span.attributes[key]}" for key in shown if key in span.attributes)


def print_run(folder: Path, run_id: str) -> int:
    """Print the run's traces; 1 when the folder holds no span of that run."""
    traces = traces_of_run(read_spans(folder), run_id)
    if not traces:
        print(f"no span of run {run_id} in {folder / SPANS_FILE}")
        return 1
    for trace_id, spans in sorted(traces.items(), key=lambda item: min(s.start for s in item[1])):
        print(f"trace {trace_id} ({len(spans)} spans)")
        for line in draw(spans):
            print("  " + line)
    return 0
