"""Each scheduled sync is declared once: the catalog, the example settings and the Bicep app settings agree.

``shared/connectors/syncs.py`` owns each sync's streams, schedule setting and
default. ``local.settings.json.example`` and ``infra/main.bicep`` must set
every one of those settings to its default, and name no schedule nothing
declares; the catalog must hold exactly the declared streams, in their order.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from sqlalchemy import create_engine

from shared.connectors.catalog import hub_streams
from shared.connectors.dataverse.client import DataverseClient
from shared.connectors.salesforce.budget import ApiBudget
from shared.connectors.salesforce.rest import SalesforceRest
from shared.connectors.salesforce.session import SalesforceSession
from shared.connectors.syncs import CHANGE_SYNCS, SYNCS, TIMED_SYNCS
from shared.http.hosts import HostRegistry
from shared.ncrontab import ncrontab_problem
from shared.settings import APP_ROOT, Settings
from shared.sql.change_tracking import TRACKED_TABLES

# Timers that are not syncs (the GP sweep, the watchdog): their defaults are the typed settings' own.
OTHER_TIMERS = {
    field.alias: field.default
    for field in Settings.model_fields.values()
    if field.alias is not None and field.alias.endswith("_SCHEDULE")
}
# One ``NAME: 'value'`` entry of the app settings object in main.bicep.
_BICEP_SETTING = re.compile(r"^\s*([A-Za-z][A-Za-z0-9_]*)\s*:\s*'([^']*)'\s*$", re.MULTILINE)


def declared_schedules() -> dict[str, str]:
    return {sync.schedule_setting: sync.default_schedule for sync in TIMED_SYNCS} | OTHER_TIMERS


def schedules_in(settings: dict[str, str]) -> dict[str, str]:
    return {name: value for name, value in settings.items() if name.endswith("_SCHEDULE")}


def bicep_hub_settings(path: Path) -> dict[str, str]:
    """The literal entries of ``hubSettings: union({...}, ...)``, the hub's app settings in Azure."""
    text = path.read_text(encoding="utf-8")
    start = text.index("hubSettings: union({")
    block = text[start : text.index("})", start)]
    return dict(_BICEP_SETTING.findall(block))


def test_each_sync_has_its_own_name_setting_and_streams_and_a_schedule_the_host_accepts() -> None:
    assert {"GP_SWEEP_SCHEDULE", "WATCHDOG_SCHEDULE"} <= set(OTHER_TIMERS)
    assert not set(OTHER_TIMERS) & {sync.schedule_setting for sync in SYNCS}
    assert len({sync.name for sync in SYNCS}) == len(SYNCS)
    assert len({sync.schedule_setting for sync in SYNCS}) == len(SYNCS)
    streams = [stream for sync in SYNCS for stream in sync.streams]
    assert len(streams) == len(set(streams))
    assert {name: ncrontab_problem(value) for name, value in declared_schedules().items()} == {
        name: None for name in declared_schedules()
    }


def test_the_catalog_holds_exactly_the_declared_streams_in_order() -> None:
    engine = create_engine("sqlite://")
    salesforce = SalesforceRest(
        HostRegistry(),
        SalesforceSession(HostRegistry().client("https://org.example"), "app", str),
        ApiBudget(0.5),
    )
    dataverse = DataverseClient(HostRegistry().client("https://org.example/api/data/v9.2/"), lambda: "token")
    catalog = hub_streams(
        engine,
        gp_company_engine=lambda company: engine,
        gp_companies=["TOWNE"],
        salesforce=salesforce,
        dataverse=dataverse,
    )
    assert [stream.name for stream in catalog] == [stream for sync in SYNCS for stream in sync.streams]


def test_local_settings_example_sets_each_schedule_to_its_declared_default() -> None:
    example = json.loads((APP_ROOT / "local.settings.json.example").read_text(encoding="utf-8"))
    assert schedules_in(example["Values"]) == declared_schedules()


def test_the_bicep_app_settings_set_each_schedule_to_its_declared_default() -> None:
    settings = bicep_hub_settings(APP_ROOT / "infra" / "main.bicep")
    assert settings["WAGE_RATE_DIFFERENTIAL_PAY"] == "dollars_only"  # the parse reads the settings object
    assert schedules_in(settings) == declared_schedules()


def test_each_change_sync_runs_daily_declared_streams_of_a_tracked_table_behind_its_setting() -> None:
    daily = {stream for sync in SYNCS for stream in sync.streams}
    switches = {field.alias for field in Settings.model_fields.values() if field.alias}
    tracked = {table.table.name for table in TRACKED_TABLES}
    for sync in CHANGE_SYNCS:
        assert set(sync.streams) <= daily, sync.name
        assert sync.tracked_table in tracked, sync.name
        assert f"CHANGE_TRACKING_{sync.tracked_table}" in switches, sync.name
    assert {sync.tracked_table for sync in CHANGE_SYNCS} == tracked
