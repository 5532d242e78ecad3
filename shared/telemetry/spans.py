"""Spans for the hub's work and its calls to other systems, and the trace context its messages carry.

Through the OpenTelemetry API only: with no provider configured (telemetry off)
every span is a no-op costing a function call. A span gets the ids bound in
``shared.telemetry.dimensions`` as attributes and binds its own ids for the
work inside it, so the log lines written there carry them too.

A Service Bus message carries the W3C trace context of the work that sent it
in its application properties: ``traceparent`` (and ``tracestate``), and
``Diagnostic-Id`` with the same value, as the Azure SDKs set it. The trigger
that receives it continues that trace (``continued``), so App Insights'
transaction view shows one HTTP request with the sync request, the extraction,
every batch load and every Dataverse call it caused.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from opentelemetry import context, propagate, trace
from opentelemetry.trace import Span, SpanKind, Status, StatusCode

from shared.telemetry import dimensions, names
from shared.telemetry.dimensions import Dimension

TRACEPARENT = "traceparent"
TRACESTATE = "tracestate"
DIAGNOSTIC_ID = "Diagnostic-Id"
_tracer = trace.get_tracer("towne_park_hub")


@contextmanager
def span(
    name: str,
    attributes: Mapping[str, Dimension | None] | None = None,
    kind: SpanKind = SpanKind.INTERNAL,
) -> Iterator[Span]:
    """A span named ``name`` around the block, carrying the bound ids and ``attributes``.

    An exception leaving the block is recorded on the span and sets its status
    to error; it is raised on unchanged.
    """
    own = dimensions.present(attributes or {})
    with (
        dimensions.bound(own),
        _tracer.start_as_current_span(name, kind=kind, attributes={**dimensions.current(), **own}) as current,
    ):
        yield current


def failed(current: Span, error_class: str, description: str) -> None:
    """Mark a span failed with the error table's class, for work that settled its failure and returned."""
    current.set_attribute(names.ERROR_CLASS, error_class)
    current.set_status(Status(StatusCode.ERROR, description))


def started(name: str, attributes: Mapping[str, Dimension | None] | None = None) -> Span:
    """A span that is not made current, for work a generator does between its yields; end it yourself.

    A generator's caller runs between its yields, so a span made current in
    it would wrongly parent whatever the caller does meanwhile.
    """
    return _tracer.start_span(
        name, attributes={**dimensions.current(), **dimensions.present(attributes or {})}
    )


def trace_properties() -> dict[str, str]:
    """The application properties that carry the current trace to a message's receiver; {} outside one."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    found = {name: carrier[name] for name in (TRACEPARENT, TRACESTATE) if carrier.get(name)}
    if TRACEPARENT in found:
        found[DIAGNOSTIC_ID] = found[TRACEPARENT]
    return found


@contextmanager
def continued(properties: Mapping[str, object] | None) -> Iterator[None]:
    """Continue the trace a received message carries, unless the invocation is in it already.

    In Azure the Functions host starts each invocation's span from the
    message's ``Diagnostic-Id`` and the worker makes it current (with
    ``PYTHON_ENABLE_OPENTELEMETRY``); when it did not (the setting is off, or
    a host that starts a fresh trace), the message's trace is made current
    here, so the run's trace is never broken.
    """
    properties = properties or {}
    carried = {
        TRACEPARENT: str(properties.get(TRACEPARENT) or properties.get(DIAGNOSTIC_ID) or ""),
        TRACESTATE: str(properties.get(TRACESTATE) or ""),
    }
    sender = trace.get_current_span(propagate.extract(carried)).get_span_context()
    invocation = trace.get_current_span().get_span_context()
    if not sender.is_valid or (invocation.is_valid and invocation.trace_id == sender.trace_id):
        yield
        return
    token = context.attach(propagate.extract(carried))
    try:
        yield
    finally:
        context.detach(token)


__all__ = ["SpanKind", "continued", "failed", "span", "started", "trace_properties"]
