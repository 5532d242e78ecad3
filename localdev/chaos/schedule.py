"""What a chaos run injects and when, drawn up front from one seed so the same seed injects the same faults.

Request faults are shares of every Dataverse and GP request, switched on for
the whole run and off at its end: 429 with ``Retry-After``, 503 and a dropped
connection (before the request is read, or after it was carried out), their shares summing to ``REQUEST_FAULT_SHARE``, each switch with
its own seed drawn from the scenario's. The events (a SIGKILLed Functions host,
a restarted Azurite or emulator) happen at points of the stream's progress
(the share of its records in Dataverse) rather than at wall-clock seconds, so
a slower machine meets them at the same place in the run.
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass
from enum import StrEnum

REQUEST_FAULT_SHARE = 0.2
HOST_KILLS = 3
DUPLICATE_SHARE = 0.05  # of Service Bus deliveries delivered a second time
FIRST_POINT, LAST_POINT = 0.05, 0.85  # the events' span, as shares of the stream's records loaded


class RequestFault(StrEnum):
    THROTTLED = "throttled"  # 429 with Retry-After
    UNAVAILABLE = "unavailable"  # 503
    DROPPED_CONNECTION = "dropped_connection"  # the connection closed before the request was read
    DROPPED_AFTER_APPLY = "dropped_after_apply"  # carried out, then the connection closed unanswered


class EventKind(StrEnum):
    KILL_HOST = "kill the Functions host (SIGKILL), start it again"
    RESTART_AZURITE = "restart Azurite (Blob and Table), its data kept"
    RESTART_EMULATOR = "restart the Service Bus emulator, its store kept"


@dataclass(frozen=True)
class Switch:
    """One seeded share of a system's requests answered with ``fault``."""

    system: str  # "dataverse" | "gp" | "servicebus"
    fault: str
    fraction: float
    seed: int


@dataclass(frozen=True)
class Event:
    at: float  # share of the stream's records loaded when it fires
    kind: EventKind


@dataclass(frozen=True)
class Schedule:
    seed: int
    switches: tuple[Switch, ...]
    events: tuple[Event, ...]

    def lines(self) -> list[str]:
        """The schedule as the runner prints it before it starts."""
        printed = [f"Chaos schedule (seed {self.seed}):"]
        printed += [
            f"  {switch.system:<10} {switch.fault:<20} {switch.fraction:6.1%} of "
            f"{'completions' if switch.system == 'servicebus' else 'requests'} (seed {switch.seed})"
            for switch in self.switches
        ]
        printed += [f"  at {event.at:5.1%} of records loaded: {event.kind}" for event in self.events]
        return printed


def make_schedule(seed: int, host_kills: int = HOST_KILLS) -> Schedule:
    """The scenario ``seed`` names: request-fault shares per system, and the events at their points."""
    dice = random.Random(seed)
    switches: list[Switch] = []
    for system in ("dataverse", "gp"):
        cuts = [0.0, *sorted(dice.uniform(0.1, 0.9) for _ in range(len(RequestFault) - 1)), 1.0]
        shares = [high - low for low, high in itertools.pairwise(cuts)]
        for fault, share in zip(RequestFault, shares, strict=True):
            switches.append(
                Switch(system, fault, round(REQUEST_FAULT_SHARE * share, 4), dice.randrange(2**31))
            )
    switches.append(Switch("servicebus", "duplicate_delivery", DUPLICATE_SHARE, dice.randrange(2**31)))
    kinds = [EventKind.KILL_HOST] * host_kills + [EventKind.RESTART_AZURITE, EventKind.RESTART_EMULATOR]
    points = sorted(round(dice.uniform(FIRST_POINT, LAST_POINT), 3) for _ in kinds)
    dice.shuffle(kinds)
    events = tuple(Event(at, kind) for at, kind in zip(points, kinds, strict=True))
    return Schedule(seed, tuple(switches), events)
