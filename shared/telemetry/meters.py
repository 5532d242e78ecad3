"""Recording the hub's metrics (``names.METRICS``) through the OpenTelemetry metrics API.

Instruments are made on first use from their declaration, so a metric's
name, unit and description exist once. A dimension the declaration does not
list is refused (a ``ValueError`` in tests, never a silently new dimension an
alert does not know). With telemetry off the API's no-op meter records
nothing.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from opentelemetry import metrics

from shared.telemetry.dimensions import Dimension
from shared.telemetry.names import Metric

_meter = metrics.get_meter("towne_park_hub")
_instruments: dict[str, Any] = {}
_making = threading.Lock()


def record(metric: Metric, value: float, dimensions: Mapping[str, Dimension | None]) -> None:
    """Add ``value`` to a counter, record it in a histogram, or set a gauge to it."""
    unknown = dimensions.keys() - set(metric.dimensions)
    if unknown:
        raise ValueError(
            f"{metric.name} has no dimension {sorted(unknown)}; it has {list(metric.dimensions)}"
        )
    attributes = {key: value for key, value in dimensions.items() if value is not None}
    instrument = _instrument(metric)
    if metric.kind == "counter":
        instrument.add(value, attributes)
    elif metric.kind == "histogram":
        instrument.record(value, attributes)
    else:
        instrument.set(value, attributes)


def _instrument(metric: Metric) -> Any:
    found = _instruments.get(metric.name)
    if found is not None:
        return found
    with _making:
        if metric.name not in _instruments:
            name, unit, description = metric.name, metric.unit, metric.description
            if metric.kind == "counter":
                _instruments[name] = _meter.create_counter(name, unit=unit, description=description)
            elif metric.kind == "histogram":
                _instruments[name] = _meter.create_histogram(name, unit=unit, description=description)
            else:
                _instruments[name] = _meter.create_gauge(name, unit=unit, description=description)
        return _instruments[metric.name]
