"""The timers of ``functions/syncs.py``: one per declared sync, schedule from its setting, overlap logged, failure raised.

The triggers are called as the Functions host calls them, with a
``TimerRequest``, on the real engine of the connectors' test world; only
``hub()`` is pointed at that engine instead of the app settings' one.
"""

from __future__ import annotations

import logging
import types
from datetime import datetime
from pathlib import Path

import azure.functions as func
import pytest
from azure.functions.timer import TimerRequest
from sqlalchemy import text

import functions.syncs as syncs
from localdev.functions_host.schedules import parse_schedule
from shared.connectors.syncs import SYNCS, Source
from shared.platform.blob_lock import BlobLocks
from tests.connectors.conftest import Hub

pytestmark = pytest.mark.services
BY_NAME = {sync.name: sync for sync in SYNCS}


@pytest.fixture
def timers(hub: Hub, monkeypatch: pytest.MonkeyPatch) -> Hub:
    monkeypatch.setattr(syncs, "hub", lambda: types.SimpleNamespace(engine=hub.world.engine))
    return hub


def test_one_timer_per_declared_sync_with_its_schedule_setting() -> None:
    app = func.FunctionApp()
    app.register_functions(syncs.blueprint)
    schedules = {}
    for function in app.get_functions():
        trigger = function.get_trigger()
        assert trigger is not None
        schedules[function.get_function_name()] = trigger.get_dict_repr()["schedule"]
    assert schedules == {sync.name: f"%{sync.schedule_setting}%" for sync in SYNCS}
    midnight = datetime(2026, 11, 28)
    fires = {sync.name: parse_schedule(sync.default_schedule).next_after(midnight) for sync in SYNCS}
    assert fires["master_customer_sites"] == datetime(2026, 11, 28, 3, 0)
    assert fires["wage_rates"] == datetime(2026, 11, 28, 4, 0)
    assert parse_schedule(BY_NAME["wage_rates"].default_schedule).next_after(fires["wage_rates"]) == datetime(
        2026, 11, 28, 8, 0
    )


def test_each_generated_timer_runs_its_own_syncs_streams(timers: Hub) -> None:
    app = func.FunctionApp()
    app.register_functions(syncs.blueprint)
    for function in app.get_functions():
        function.get_user_function()(timer=TimerRequest())

    runs = [timers.world.engine.runs.get(run_id) for run_id in timers.world.engine.runs.ids()]
    assert sorted(run.stream for run in runs if run) == sorted(
        stream for sync in SYNCS if sync.source == Source.EDW for stream in sync.streams
    )


def test_a_sync_whose_source_is_not_configured_is_skipped_naming_the_setting(
    timers: Hub, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=syncs.__name__)
    syncs.run_scheduled_sync(BY_NAME["gp_invoice_payment_status"], TimerRequest())

    assert "gp_invoice_payment_status skipped" in caplog.text and "GP_SQL_URL" in caplog.text
    assert list(timers.world.engine.runs.ids()) == []


def test_a_timer_runs_its_streams_in_order_and_logs_a_late_start(
    timers: Hub, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=syncs.__name__)
    syncs.run_scheduled_sync(BY_NAME["user_roles_and_sites"], TimerRequest(past_due=True))

    runs = [timers.world.engine.runs.get(run_id) for run_id in timers.world.engine.runs.ids()]
    assert [(run.stream, run.trigger) for run in runs if run] == [
        ("user_roles", "timer"),
        ("user_sites", "timer"),
    ]
    assert "running late (past due)" in caplog.text


def test_a_stream_still_running_is_skipped_with_a_warning_not_an_error(
    timers: Hub, caplog: pytest.LogCaptureFixture
) -> None:
    locks = BlobLocks(timers.world.state.container, 15)
    with locks.acquire("sync-wage_rates", holder="the-run-before"):
        syncs.run_scheduled_sync(BY_NAME["wage_rates"], TimerRequest())

    assert "skipped stream wage_rates" in caplog.text and "the-run-before" in caplog.text
    assert list(timers.world.engine.runs.ids()) == []


def test_a_failed_run_fails_the_invocation_after_the_other_streams_ran(
    timers: Hub, sql_folder: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with timers.engine.begin() as connection:
        connection.execute(text("DROP TABLE TP_LEGION.SHIFT_ENTITY"))

    with pytest.raises(syncs.ScheduledSyncFailedError, match="job_codes"):
        syncs.run_scheduled_sync(BY_NAME["job_codes"], TimerRequest())

    runs = [timers.world.engine.runs.get(run_id) for run_id in timers.world.engine.runs.ids()]
    assert sorted(run.stream for run in runs if run and run.error) == ["job_codes", "job_codes_by_site"]
    assert "SHIFT_ENTITY" in caplog.text
