"""Timer triggers through the real host: the schedule fires, runs never overlap, late runs are past due."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import pytest

from tests.functions_host.conftest import FunctionsHost

pytestmark = pytest.mark.timeout(60)


@pytest.mark.slow(5)
def test_a_one_second_timer_fires_and_the_run_after_an_overrun_is_past_due(
    functions_host_factory: Callable[..., FunctionsHost],
) -> None:
    host = functions_host_factory()
    # The first run sleeps 2.3 s, past the next two occurrences; they collapse into one late run.
    first, late, on_time, *_ = host.wait_for_records("tick", 4)

    assert first["past_due"] is False
    assert late["past_due"] is True
    assert on_time["past_due"] is False
    assert first["ended"] - first["started"] >= 2.3
    assert late["started"] - first["ended"] < 0.5  # the missed occurrence runs at once
    records = host.records("tick")
    for earlier, later in itertools.pairwise(records):
        assert later["started"] >= earlier["ended"]  # never two runs of one timer at once
    assert len({record["id"] for record in records}) == len(records)
    assert f"Executed 'Functions.tick' (Succeeded, Id={first['id']}, Duration=" in host.log()


def test_run_on_startup_runs_a_yearly_timer_once_as_the_host_starts(
    functions_host_factory: Callable[..., FunctionsHost],
) -> None:
    host = functions_host_factory()
    assert host.wait_for_records("nightly_reconcile", 1) == [{"past_due": False}]
    host.wait_for_log("Executing 'Functions.nightly_reconcile' (Reason='Timer fired at ")


def test_a_schedule_from_the_environment_wins_over_local_settings(
    functions_host_factory: Callable[..., FunctionsHost],
) -> None:
    host = functions_host_factory({"TICK_SCHEDULE": "00:00:30"})
    assert "tick: timerTrigger, every 0:00:30" in host.log()


def test_sigterm_waits_for_the_running_invocation_then_stops(
    functions_host_factory: Callable[..., FunctionsHost],
) -> None:
    host = functions_host_factory()
    host.wait_for_log("Executing 'Functions.tick'")  # the first tick runs for 2.3 s
    assert host.records("tick") == []

    assert host.terminate() == 0

    [record] = host.records("tick")
    assert record["ended"] - record["started"] >= 2.3
    log = host.log()
    assert (
        log.index("Stopping host...") < log.index("Executed 'Functions.tick'") < log.index("Host shut down.")
    )
