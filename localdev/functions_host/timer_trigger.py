"""Timer triggers: fire on the schedule, never overlap, and flag ``past_due`` when an occurrence was missed.

Like the Functions host, a timer runs one invocation at a time. When a run
outlasts the next occurrence (or the machine slept through one), the missed
occurrences collapse into a single run that starts at once with
``past_due=True``; ``run_on_startup`` adds one run as the host starts.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from azure.functions.timer import TimerRequest
from opentelemetry.trace import SpanKind

from localdev.functions_host.catalog import AppFunction
from localdev.functions_host.invocation import Invoker
from localdev.functions_host.local_settings import resolve
from localdev.functions_host.schedules import Schedule, parse_schedule
from localdev.functions_host.telemetry import invocation_span
from shared.telemetry import names

# A run that starts this much after its occurrence is late even if no later occurrence passed.
_LATE = timedelta(seconds=1)


@dataclass(frozen=True)
class TimerSpec:
    function: AppFunction
    schedule: Schedule
    run_on_startup: bool

    def describe(self) -> str:
        startup = ", runs on startup" if self.run_on_startup else ""
        return f"timerTrigger, {self.schedule.describe()}{startup}"


def timer_spec(function: AppFunction) -> TimerSpec:
    """The schedule a function's ``timerTrigger`` declares, ``%SETTING%`` references resolved."""
    schedule = parse_schedule(resolve(str(function.trigger["schedule"])))
    return TimerSpec(function, schedule, bool(function.trigger.get("runOnStartup")))


def _now() -> datetime:
    return datetime.now(UTC)


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


class Timer:
    """Runs one timer-triggered function until ``stopping`` is set; a run in progress is awaited."""

    def __init__(self, spec: TimerSpec, invoker: Invoker, stopping: asyncio.Event) -> None:
        self._spec = spec
        self._invoker = invoker
        self._stopping = stopping
        self._last: datetime | None = None

    async def run(self) -> None:
        if self._spec.run_on_startup:
            await self._fire(_now(), past_due=False)
        due, missed = self._spec.schedule.next_after(_now()), False
        while await self._wait_until(due):
            await self._fire(due, past_due=missed or _now() - due > _LATE)
            due, missed = self._following(due)

    def _following(self, occurrence: datetime) -> tuple[datetime, bool]:
        """The next occurrence to run, and whether occurrences were missed on the way to it."""
        schedule, now = self._spec.schedule, _now()
        following = schedule.next_after(occurrence)
        if following > now:
            return following, False
        while (after := schedule.next_after(following)) <= now:
            following = after
        return following, True

    async def _wait_until(self, due: datetime) -> bool:
        """Sleep until ``due``; ``False`` when the host is stopping instead."""
        delay = (due - _now()).total_seconds()
        try:
            await asyncio.wait_for(self._stopping.wait(), timeout=max(delay, 0))
        except TimeoutError:
            return not self._stopping.is_set()
        return False

    async def _fire(self, occurrence: datetime, past_due: bool) -> None:
        next_due = self._spec.schedule.next_after(max(occurrence, _now()))
        request = TimerRequest(
            past_due=past_due,
            schedule_status={"Last": _iso(self._last), "Next": _iso(next_due), "LastUpdated": _iso(_now())},
            schedule={"AdjustForDST": True},
        )
        self._last = occurrence
        with invocation_span(names.SPAN_TIMER, SpanKind.INTERNAL, self._spec.function.name):
            await self._invoker.invoke(
                self._spec.function, request, f"Timer fired at {occurrence.isoformat()}"
            )
