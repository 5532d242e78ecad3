"""A run's life as data: which event may move a run from which status to which.

Every change of a run's status goes through ``move``, inside an ETag-guarded
update of its record, so an illegal or concurrent change is refused instead of
overwritten. Every status is either finished or has a way on: a queued or
retrying run is claimed by the next delivery of its request (or the watchdog
publishes it again), a running run whose worker died is claimed again, a
loading run settles when its last batch is in, and a dead-lettered run comes
back when an operator resubmits what was set aside.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType

from shared.pipeline.run_record import RunRecord, RunStatus


class RunEvent(StrEnum):
    CLAIMED = "claimed"  # a worker starts the run, or resumes it from its last checkpoint
    EXTRACTED = "extracted"  # every batch is staged and published
    RETRY_LATER = "retry_later"  # a transient failure; the request is rescheduled
    FAILED = "failed"  # a failure with no one to retry it (a run started by hand)
    DEAD_LETTERED = "dead_lettered"  # a failure no retry can fix, or the retry budget is spent
    SETTLED = "settled"  # every batch is accounted for


_S = RunStatus
_SETTLED = frozenset({_S.SUCCEEDED, _S.PARTIALLY_FAILED, _S.FAILED})
TRANSITIONS: Mapping[tuple[RunStatus, RunEvent], frozenset[RunStatus]] = MappingProxyType(
    {
        (_S.QUEUED, RunEvent.CLAIMED): frozenset({_S.RUNNING}),
        (_S.RETRYING, RunEvent.CLAIMED): frozenset({_S.RUNNING}),
        (_S.RUNNING, RunEvent.CLAIMED): frozenset({_S.RUNNING}),  # its last worker died
        (_S.DEAD_LETTERED, RunEvent.CLAIMED): frozenset({_S.RUNNING}),  # an operator resubmitted it
        (_S.RUNNING, RunEvent.EXTRACTED): frozenset({_S.LOADING}),
        (_S.QUEUED, RunEvent.RETRY_LATER): frozenset({_S.RETRYING}),
        (_S.RETRYING, RunEvent.RETRY_LATER): frozenset({_S.RETRYING}),
        (_S.RUNNING, RunEvent.RETRY_LATER): frozenset({_S.RETRYING}),
        (_S.RUNNING, RunEvent.FAILED): frozenset({_S.FAILED}),
        (_S.QUEUED, RunEvent.DEAD_LETTERED): frozenset({_S.DEAD_LETTERED}),
        (_S.RETRYING, RunEvent.DEAD_LETTERED): frozenset({_S.DEAD_LETTERED}),
        (_S.RUNNING, RunEvent.DEAD_LETTERED): frozenset({_S.DEAD_LETTERED}),
        (_S.LOADING, RunEvent.DEAD_LETTERED): frozenset({_S.DEAD_LETTERED}),  # a batch was set aside
        (_S.LOADING, RunEvent.SETTLED): _SETTLED,
        (_S.DEAD_LETTERED, RunEvent.SETTLED): _SETTLED,  # a resubmitted batch loaded
    }
)


class IllegalTransitionError(Exception):
    """The event cannot happen to a run in its present status (it moved on, or it never could)."""

    def __init__(self, record: RunRecord, event: RunEvent, to: RunStatus) -> None:
        super().__init__(
            f"run {record.id} is {record.status.value}; '{event.value}' cannot make it {to.value}"
        )
        self.status = record.status


def can_move(record: RunRecord, event: RunEvent) -> bool:
    return (record.status, event) in TRANSITIONS


def move(record: RunRecord, event: RunEvent, to: RunStatus) -> None:
    """Change ``record``'s status to ``to`` for ``event``, or raise ``IllegalTransitionError``."""
    if to not in TRANSITIONS.get((record.status, event), frozenset()):
        raise IllegalTransitionError(record, event, to)
    record.status = to
