"""Reading what the hub on the local host exported: its spans, metrics and logs, once they are written."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from localdev.trace_tree import SpanLine, read_logs, read_metrics, read_spans
from shared.telemetry import names
from tests.fixtures.hub_host import HubHost


def finished(
    client: httpx.Client, answer: httpx.Response, host: HubHost, seconds: float = 120
) -> dict[str, Any]:
    """Follow ``Location`` while the API answers 202, as a flow does; the final body."""
    deadline = time.monotonic() + seconds
    while answer.status_code == 202:
        assert time.monotonic() < deadline, f"never finished: {answer.text}\n{host.log()[-4000:]}"
        time.sleep(0.5)
        answer = client.get(answer.headers["Location"])
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def spans_when(folder: Path, enough: Callable[[list[SpanLine]], bool], seconds: float = 20) -> list[SpanLine]:
    """The exported spans once ``enough`` says they are all there (the exporter writes every 0.5 s)."""
    deadline = time.monotonic() + seconds
    while not enough(spans := read_spans(folder)):
        assert time.monotonic() < deadline, f"spans never arrived: {sorted({s.name for s in spans})}"
        time.sleep(0.25)
    return spans


def named(spans: list[SpanLine], name: str) -> list[SpanLine]:
    return [span for span in spans if span.name == name]


def metric_points(folder: Path, metric: names.Metric) -> list[dict[str, Any]]:
    """The data points of ``metric`` in the newest export that has it (the console exporter is cumulative)."""
    newest: list[dict[str, Any]] = []
    for export in read_metrics(folder):
        for resource in export.get("resource_metrics", []):
            for scope in resource.get("scope_metrics", []):
                for found in scope.get("metrics", []):
                    if found["name"] == metric.name:
                        newest = list(found["data"]["data_points"])
    return newest


def value_of(point: dict[str, Any]) -> float:
    """A counter's or gauge's value, or a histogram's sum."""
    return float(point["value"] if "value" in point else point["sum"])


def points_when(
    folder: Path, metric: names.Metric, enough: Callable[[list[dict[str, Any]]], bool], seconds: float = 20
) -> list[dict[str, Any]]:
    deadline = time.monotonic() + seconds
    while not enough(points := metric_points(folder, metric)):
        assert time.monotonic() < deadline, f"{metric.name} never reached the expected points: {points}"
        time.sleep(0.25)
    return points


def logs_of(folder: Path) -> list[dict[str, Any]]:
    return read_logs(folder)
