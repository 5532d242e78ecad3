"""The chaos schedule is the seed's: the same seed injects the same faults at the same points."""

from __future__ import annotations

import math

from localdev.chaos.schedule import (
    FIRST_POINT,
    LAST_POINT,
    REQUEST_FAULT_SHARE,
    EventKind,
    RequestFault,
    make_schedule,
)


def test_the_same_seed_gives_the_same_schedule_and_another_seed_another() -> None:
    assert make_schedule(41) == make_schedule(41)
    assert make_schedule(41).lines() == make_schedule(41).lines()
    assert make_schedule(41) != make_schedule(42)
    assert make_schedule(41).events != make_schedule(42).events


def test_each_system_fails_a_fifth_of_its_requests_split_over_every_fault_with_seeds_of_their_own() -> None:
    schedule = make_schedule(7)
    for system in ("dataverse", "gp"):
        switches = [switch for switch in schedule.switches if switch.system == system]
        assert {switch.fault for switch in switches} == set(RequestFault)
        assert math.isclose(sum(switch.fraction for switch in switches), REQUEST_FAULT_SHARE, abs_tol=1e-3)
        assert all(switch.fraction > 0 for switch in switches)
    seeds = [switch.seed for switch in schedule.switches]
    assert len(set(seeds)) == len(seeds)


def test_the_events_are_the_kills_and_one_restart_of_each_in_order_inside_the_run() -> None:
    schedule = make_schedule(7, host_kills=3)
    kinds = [event.kind for event in schedule.events]
    assert sorted(kinds) == sorted(
        [EventKind.KILL_HOST] * 3 + [EventKind.RESTART_AZURITE, EventKind.RESTART_EMULATOR]
    )
    points = [event.at for event in schedule.events]
    assert points == sorted(points)
    assert all(FIRST_POINT <= point <= LAST_POINT for point in points)
