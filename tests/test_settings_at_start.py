"""The start-up check: a missing setting or a bad timer schedule still stops ``import function_app``, without pydantic.

The names the check holds are compared with the full ``Settings`` and with
the timers the app's blueprints register, so neither can gain a required
setting or a schedule the start-up check does not know.
"""

from __future__ import annotations

import os
import subprocess
import sys

import certifi
import pytest

from functions import billing, gp, pipeline, revenue_submissions, salesforce_reporting, syncs
from localdev import services
from shared.connectors.syncs import TIMED_SYNCS
from shared.settings import Settings, SettingsError, load_settings
from shared.settings_at_start import REQUIRED_SETTINGS, TIMER_SCHEDULES, settings_problems

# Just what the app needs to start, so no test depends on a local.settings.json; telemetry off.
_APP = {
    "StagingStorage": "UseDevelopmentStorage=true",
    "ServiceBusConnection": "Endpoint=sb://127.0.0.1:5672;SharedAccessKeyName=RootManageSharedAccessKey;"
    "SharedAccessKey=SAS_KEY_VALUE;UseDevelopmentEmulator=true;",
    "DATAVERSE_URL": "https://127.0.0.1:7081",
    "DATAVERSE_TENANT_ID": "tenant",
    "DATAVERSE_CLIENT_ID": "client",
    "LOCAL_CA_BUNDLE": certifi.where(),
}
_OFF = {
    "APPLICATIONINSIGHTS_CONNECTION_STRING": "",
    "LOCAL_TELEMETRY_FOLDER": "",
    "OTEL_EXPORTER_OTLP_ENDPOINT": "",
}

_BLUEPRINTS = (billing, gp, pipeline, revenue_submissions, salesforce_reporting, syncs)


def _bound_schedules() -> set[str]:
    """The ``%SETTING%`` each timer the app registers binds its schedule to, read from the blueprints."""
    bound = set()
    for module in _BLUEPRINTS:
        for builder in module.blueprint._function_builders:
            trigger = builder._function.get_trigger()
            if trigger.get_binding_name() == "timerTrigger":
                bound.add(trigger.get_dict_repr()["schedule"].strip("%"))
    return bound


def test_the_checked_schedules_are_the_ones_the_timers_bind_to_and_the_settings_check() -> None:
    checked = {*TIMER_SCHEDULES, *(sync.schedule_setting for sync in TIMED_SYNCS)}
    assert checked == _bound_schedules()
    full_check = {
        field.alias for field in Settings.model_fields.values() if (field.alias or "").endswith("_SCHEDULE")
    }
    assert set(TIMER_SCHEDULES) == full_check


def test_the_required_settings_are_the_ones_the_full_settings_require(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    single = {alternatives[0] for alternatives in REQUIRED_SETTINGS if len(alternatives) == 1}
    assert single == {field.alias for field in Settings.model_fields.values() if field.is_required()}
    for name in list(os.environ):
        if name.startswith(("StagingStorage", "ServiceBusConnection", "DATAVERSE_", "LOCAL_CA")):
            monkeypatch.delenv(name)
    for alternatives in REQUIRED_SETTINGS:
        without = {name: value for name, value in _APP.items() if name not in alternatives}
        with pytest.raises(SettingsError, match=alternatives[0]):
            load_settings_from(without, monkeypatch)
        assert settings_problems(without) == [
            f"{alternatives[0]}: is not set"
            + (f" (nor {', '.join(alternatives[1:])})" if alternatives[1:] else "")
        ]
    assert settings_problems(_APP) == []


def load_settings_from(values: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Settings:
    with monkeypatch.context() as patched:
        for name, value in values.items():
            patched.setenv(name, value)
        return load_settings(None)


def test_a_schedule_both_checks_refuse_is_named_by_both(monkeypatch: pytest.MonkeyPatch) -> None:
    five_fields = "*/5 * * * *"  # Vixie cron: the Functions host would read its minutes as seconds
    for name in ("GP_SWEEP_SCHEDULE", TIMED_SYNCS[0].schedule_setting):
        assert [problem.split(":")[0] for problem in settings_problems({**_APP, name: five_fields})] == [name]
        with pytest.raises(SettingsError, match=name):
            load_settings_from({**_APP, name: five_fields}, monkeypatch)
    assert settings_problems({**_APP, "WATCHDOG_SCHEDULE": "0 61 * * * *"}) == [
        "WATCHDOG_SCHEDULE: the value is not a valid NCRONTAB expression"
    ]


def _import_app(settings: dict[str, str]) -> subprocess.CompletedProcess[str]:
    probe = (
        "import sys, function_app; print('pydantic' in sys.modules, 'shared.api.operations' in sys.modules);"
        "from shared.settings import SettingsError, hub_settings\n"
        "try: hub_settings()\nexcept SettingsError as error: print(error)"
    )
    environment = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("StagingStorage", "ServiceBusConnection", "DATAVERSE_"))
    }
    return subprocess.run(
        [sys.executable, "-c", probe],
        cwd=services.REPO,
        env={**environment, **_OFF, **settings, "HUB_IGNORE_LOCAL_SETTINGS": "true"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_a_missing_setting_or_a_bad_schedule_stops_the_import_of_the_app_naming_it() -> None:
    missing = _import_app({name: value for name, value in _APP.items() if name != "DATAVERSE_CLIENT_ID"})
    assert missing.returncode == 1
    assert (
        "SettingsError: The hub's settings are incomplete: DATAVERSE_CLIENT_ID: is not set" in missing.stderr
    )
    bad = _import_app({**_APP, "BILLING_REPORTING_SCHEDULE": "0 50 * * *"})
    assert bad.returncode == 1
    assert "BILLING_REPORTING_SCHEDULE: the value is not a six-field NCRONTAB expression" in bad.stderr
    assert "0 50 * * *" not in bad.stderr


def test_the_app_indexes_without_pydantic_and_the_first_use_names_any_other_bad_setting() -> None:
    fine = _import_app(_APP)
    assert fine.returncode == 0, fine.stderr
    assert fine.stdout.splitlines() == ["False False"]
    malformed = _import_app(
        {**_APP, "DATAVERSE_URL": "tp-billing.crm.dynamics.com", "STATE_TABLE_PREFIX": "h"}
    )
    assert malformed.returncode == 0, malformed.stderr
    indexed, first_use = malformed.stdout.splitlines()
    assert indexed == "False False"
    assert first_use.startswith("The hub's settings are incomplete: ")
    assert "DATAVERSE_URL: " in first_use
    assert "STATE_TABLE_PREFIX: " in first_use
