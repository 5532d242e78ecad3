"""The spans the Functions host writes around each invocation, and the worker's part in continuing them.

In Azure, with ``"telemetryMode": "OpenTelemetry"``, the host records each
invocation as a request: an HTTP call (continuing the caller's
``traceparent``), a Service Bus delivery (continuing the message's
``Diagnostic-Id``) or a timer occurrence (a new trace). It hands the
invocation's trace context to the worker, and the Python worker, with
``PYTHON_ENABLE_OPENTELEMETRY=true``, makes it current before it calls the
function. The local host does both, through the OpenTelemetry API, so the
app's spans nest under the same request here as in Application Insights;
with telemetry off every span is a no-op.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from opentelemetry import context, propagate, trace
from opentelemetry.trace import Span, SpanKind

from shared.telemetry import names

_tracer = trace.get_tracer("localdev.functions_host")


@contextmanager
def invocation_span(
    name: str,
    kind: SpanKind,
    function: str,
    carrier: Mapping[str, str] | None = None,
    attributes: Mapping[str, str | int] | None = None,
) -> Iterator[Span]:
    """The host's span for one invocation of ``function``, a child of the trace ``carrier`` names, if any."""
    parent = propagate.extract(dict(carrier or {})) if carrier else context.Context()
    with _tracer.start_as_current_span(
        name,
        context=parent,
        kind=kind,
        attributes={names.FUNCTION_NAME: function, **(attributes or {})},
    ) as span:
        yield span


def message_carrier(properties: Mapping[str, object]) -> dict[str, str]:
    """A delivery's trace context: its ``traceparent``, or the ``Diagnostic-Id`` the Azure SDKs set."""
    parent = properties.get("traceparent") or properties.get("Diagnostic-Id")
    carrier = {"traceparent": str(parent)} if parent else {}
    if parent and properties.get("tracestate"):
        carrier["tracestate"] = str(properties["tracestate"])
    return carrier


def current_trace_parent() -> str | None:
    """The ``traceparent`` of the host's span for this invocation, as the worker is handed it."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier.get("traceparent")


@contextmanager
def attached(trace_parent: str | None) -> Iterator[None]:
    """What the worker does with ``PYTHON_ENABLE_OPENTELEMETRY``: the invocation's trace made current."""
    if not trace_parent:
        yield
        return
    token = context.attach(propagate.extract({"traceparent": trace_parent}))
    try:
        yield
    finally:
        context.detach(token)
