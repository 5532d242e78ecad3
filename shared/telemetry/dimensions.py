"""The ids a piece of work is about, carried on every span it opens and every log line it writes.

A run, a batch, a GP posting or an invocation binds its ids here (a context
variable, so threads and tasks each see their own, and ``contextvars.copy_context``
carries them to a staging thread); ``shared.telemetry.spans`` adds them to each
span, and the log-record factory installed by ``carry_on_log_records`` puts them
on each ``logging`` record as attributes, which the OpenTelemetry log handler
exports as custom dimensions: ``traces | where customDimensions["hub.run_id"] == ...``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from types import MappingProxyType
from typing import Any

from shared.telemetry.names import LOG_DIMENSIONS

Dimension = str | int | float | bool
_NOTHING: Mapping[str, Dimension] = MappingProxyType({})
_bound: ContextVar[Mapping[str, Dimension]] = ContextVar("hub_telemetry_dimensions", default=_NOTHING)


def current() -> Mapping[str, Dimension]:
    """The ids bound by the work running in this context, outermost first."""
    return _bound.get()


def present(values: Mapping[str, Dimension | None]) -> dict[str, Dimension]:
    """``values`` without the ones that are not known (None)."""
    return {key: value for key, value in values.items() if value is not None}


@contextmanager
def bound(values: Mapping[str, Dimension | None]) -> Iterator[None]:
    """Bind the known ``values`` among ``LOG_DIMENSIONS`` for the work inside the block."""
    added = {key: value for key, value in present(values).items() if key in LOG_DIMENSIONS}
    if not added:
        yield
        return
    token = _bound.set(MappingProxyType({**_bound.get(), **added}))
    try:
        yield
    finally:
        _bound.reset(token)


def carry_on_log_records() -> None:
    """Make every log record carry the bound ids as attributes; once per process, telemetry on only."""
    previous = logging.getLogRecordFactory()
    if getattr(previous, "carries_hub_dimensions", False):
        return

    def with_dimensions(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        record.__dict__.update(_bound.get())
        return record

    with_dimensions.carries_hub_dimensions = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(with_dimensions)
