"""What ``function_app.py`` checks of the settings as the app is indexed, without importing pydantic.

The full check (``shared/settings.py``: every value typed, URLs and patterns,
the connections complete) imports pydantic and pydantic-settings, about a
hundred milliseconds that every cold start would pay before serving. At start
the app checks here what needs neither: ``local.settings.json`` is JSON with a
``Values`` object, every setting the hub cannot run without is set, and every
schedule a timer binds to (``%GP_SWEEP_SCHEDULE%``) is NCRONTAB by the rule the
full check applies (``shared/ncrontab.py``), so a bad one still stops the app
at start-up naming its setting. The rest is checked on the hub's first use
(``functions/app_hub.py``): a malformed value there fails every invocation
with ``SettingsError`` naming it. Tests hold the names here to ``Settings``'
own and to the timers the app registers.

This module and ``shared/settings.py`` are the only readers of the environment.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from shared.connectors.syncs import TIMED_SYNCS
from shared.ncrontab import ncrontab_problem

APP_ROOT = Path(__file__).resolve().parents[1]
LOCAL_SETTINGS_FILE = APP_ROOT / "local.settings.json"

# Set to "true", the process reads its settings from the environment alone, never from the repo's
# local.settings.json: the test suite sets it, so a developer's file (``make run`` writes one) cannot leak
# into a test or a test's host (it once turned telemetry on inside a test worker).
IGNORE_LOCAL_SETTINGS = "HUB_IGNORE_LOCAL_SETTINGS"

# Each setting the hub cannot run without, as the alternatives that satisfy it (a connection string, or
# the service URI a managed identity uses).
REQUIRED_SETTINGS: tuple[tuple[str, ...], ...] = (
    ("DATAVERSE_URL",),
    ("DATAVERSE_TENANT_ID",),
    ("DATAVERSE_CLIENT_ID",),
    ("StagingStorage", "StagingStorage__blobServiceUri"),
    ("ServiceBusConnection", "ServiceBusConnection__fullyQualifiedNamespace"),
)

# The schedules of the app's timers other than the scheduled syncs, whose settings their declarations name.
TIMER_SCHEDULES: tuple[str, ...] = (
    "WATCHDOG_SCHEDULE",
    "GP_SWEEP_SCHEDULE",
    "BILLING_RECONCILIATION_SCHEDULE",
    "BILLING_REPORTING_SCHEDULE",
    "RSS_SUBSCRIPTIONS_SCHEDULE",
    "RSS_SWEEP_SCHEDULE",
    "SALESFORCE_PIPELINE_REPORTING_SCHEDULE",
)


class SettingsError(Exception):
    """The environment does not describe a hub that can run; the message says which setting and why."""


def local_values(path: Path | None) -> dict[str, Any]:
    """``local.settings.json`` ``Values`` when the file exists (it never does in Azure), else nothing."""
    if path is None or not path.exists():
        return {}
    try:
        return dict(json.loads(path.read_text(encoding="utf-8")).get("Values", {}))
    except (ValueError, AttributeError) as error:
        raise SettingsError(f"{path.name} is not valid JSON with a 'Values' object: {error}") from None


def check_settings_at_start() -> None:
    """Raise ``SettingsError`` naming each setting that is missing or a timer schedule that is malformed."""
    ignored = os.environ.get(IGNORE_LOCAL_SETTINGS, "").lower() == "true"
    problems = settings_problems({**local_values(None if ignored else LOCAL_SETTINGS_FILE), **os.environ})
    if problems:
        raise SettingsError("The hub's settings are incomplete: " + "; ".join(problems))


def settings_problems(values: Mapping[str, Any]) -> list[str]:
    """What is wrong with ``values`` (app settings by name), in words that never repeat a value."""
    problems = [
        f"{alternatives[0]}: is not set"
        + (f" (nor {', '.join(alternatives[1:])})" if alternatives[1:] else "")
        for alternatives in REQUIRED_SETTINGS
        if not any(str(values.get(name) or "").strip() for name in alternatives)
    ]
    schedules = (*TIMER_SCHEDULES, *(sync.schedule_setting for sync in TIMED_SYNCS))
    for name in schedules:
        problem = ncrontab_problem(str(values[name])) if name in values else None
        if problem is not None:
            problems.append(f"{name}: the value {problem}")
    return problems
