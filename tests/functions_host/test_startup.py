"""The host refuses to start, with a message that says what to fix, when the settings cannot serve the app."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from tests.functions_host.conftest import run_host_briefly

pytestmark = pytest.mark.timeout(60)


def _settings(folder: Path, values: dict[str, str]) -> Path:
    path = folder / "local.settings.json"
    path.write_text(json.dumps({"IsEncrypted": False, "Values": values}), encoding="utf-8")
    return path


def test_a_function_level_route_without_a_function_key_setting_stops_the_host(tmp_path: Path) -> None:
    finished = run_host_briefly(
        _settings(tmp_path, {"LOCAL_MASTER_KEY": "m", "TICK_SCHEDULE": "0 0 3 1 1 *"})
    )
    assert finished.returncode == 1
    assert "cannot start" in finished.stdout
    assert "Function 'latest_statement' has auth level 'function'" in finished.stdout
    assert "Values.LOCAL_FUNCTION_KEY" in finished.stdout


def test_an_admin_route_without_a_master_key_setting_stops_the_host(tmp_path: Path) -> None:
    finished = run_host_briefly(
        _settings(tmp_path, {"LOCAL_FUNCTION_KEY": "f", "TICK_SCHEDULE": "0 0 3 1 1 *"})
    )
    assert finished.returncode == 1
    assert "Function 'restart_operations' has auth level 'admin'" in finished.stdout
    assert "Values.LOCAL_MASTER_KEY" in finished.stdout


def test_a_setting_that_is_not_a_string_is_named(tmp_path: Path) -> None:
    path = tmp_path / "local.settings.json"
    path.write_text(json.dumps({"Values": {"LOCAL_FUNCTION_KEY": "f", "RETRIES": 3}}), encoding="utf-8")
    finished = run_host_briefly(path)
    assert finished.returncode == 1
    assert "Values.RETRIES must be a string" in finished.stdout


def test_a_timer_whose_schedule_setting_is_missing_is_in_error_and_the_rest_still_start(
    tmp_path: Path,
) -> None:
    # Both keys set but no TICK_SCHEDULE: tick is in error; the host itself must not refuse to start.
    settings = _settings(tmp_path, {"LOCAL_FUNCTION_KEY": "f", "LOCAL_MASTER_KEY": "m"})
    finished = run_host_briefly(settings, stop_after_start=True)
    assert finished.returncode == 0
    assert (
        "The 'tick' function is in error: "
        "'%TICK_SCHEDULE%' refers to the app setting TICK_SCHEDULE, which is not set" in finished.stdout
    )
    assert "Host started" in finished.stdout


def test_a_busy_port_is_named_instead_of_a_traceback(tmp_path: Path) -> None:
    settings = _settings(tmp_path, {"LOCAL_FUNCTION_KEY": "f", "LOCAL_MASTER_KEY": "m"})
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        finished = run_host_briefly(settings, port=port)
    assert finished.returncode == 1
    assert f"cannot start: port {port} on 127.0.0.1 is not free" in finished.stdout
    assert "Traceback" not in finished.stdout
