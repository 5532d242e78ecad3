"""One deadline for a piece of work, set by the trigger that started it and kept by every wait inside it.

A trigger knows how long it may take (its message lock, the function time-out,
the time budget of the delivery); the HTTP client's retries and the Dataverse
sink's throttle waits, several layers down, do not. ``with deadline(seconds):``
puts that limit in a context variable, so each of them can ask ``remaining()``
and never sleep, retry or wait for an answer past it; a call that runs out of
time raises the transient ``HubError`` it would have raised once its retries
were spent, and the message goes back for another delivery.

Context variables do not follow work into a thread pool by themselves: wrap
what a pool runs in ``carried`` so its threads keep the caller's deadline.
"""

from __future__ import annotations

import contextvars
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import ParamSpec, TypeVar

Params = ParamSpec("Params")
Result = TypeVar("Result")


@dataclass(frozen=True)
class _Deadline:
    at: float
    clock: Callable[[], float]

    def remaining(self) -> float:
        return self.at - self.clock()


_current: ContextVar[_Deadline | None] = ContextVar("hub_deadline", default=None)


@contextmanager
def deadline(seconds: float, clock: Callable[[], float] = time.monotonic) -> Iterator[None]:
    """Work inside must be done within ``seconds`` (by ``clock``); a deadline set outside and sooner stands."""
    outer = _current.get()
    allowed = seconds if outer is None else min(seconds, outer.remaining())
    token = _current.set(_Deadline(clock() + allowed, clock))
    try:
        yield
    finally:
        _current.reset(token)


def remaining() -> float | None:
    """Seconds left before the current deadline (zero or less once it has passed); None when none is set."""
    current = _current.get()
    return None if current is None else current.remaining()


def carried(work: Callable[Params, Result]) -> Callable[Params, Result]:
    """``work`` run in the caller's context, for another thread (``pool.map(carried(f), ...)``): its
    deadline, and with it the span and the log ids it works under (``shared.telemetry``)."""
    snapshot = contextvars.copy_context()

    def run(*args: Params.args, **kwargs: Params.kwargs) -> Result:
        return snapshot.copy().run(work, *args, **kwargs)

    return run
