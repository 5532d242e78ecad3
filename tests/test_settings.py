"""Settings: read by their Azure names, checked at start-up, and never echoing a value."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shared.connectors.syncs import SYNCS
from shared.settings import Settings, SettingsError, load_settings

SYNCS_BY_NAME = {sync.name: sync for sync in SYNCS}
EVERY_SCHEDULE_SETTING = sorted(
    {sync.schedule_setting for sync in SYNCS}
    | {
        alias
        for field in Settings.model_fields.values()
        if (alias := field.alias) and alias.endswith("_SCHEDULE")
    }
)

LOCAL = {
    "DATAVERSE_URL": "https://tp-billing.crm.dynamics.com",
    "DATAVERSE_TENANT_ID": "tenant",
    "DATAVERSE_CLIENT_ID": "client",
    "StagingStorage": "UseDevelopmentStorage=true",
    "ServiceBusConnection": "Endpoint=sb://127.0.0.1:5672;SharedAccessKeyName=k;SharedAccessKey=v;UseDevelopmentEmulator=true;",
}


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for name in list(os.environ):
        if name.startswith(
            ("StagingStorage", "ServiceBusConnection", "SECRET_", "KEY_VAULT", "AZURE_")
        ) or name in (
            "STAGING_CONTAINER",
            "LOCAL_CA_BUNDLE",
            "DATAVERSE_URL",
            "DATAVERSE_TENANT_ID",
            "DATAVERSE_CLIENT_ID",
        ):
            monkeypatch.delenv(name)


def write_local(tmp_path: Path, values: dict[str, str]) -> Path:
    path = tmp_path / "local.settings.json"
    path.write_text(json.dumps({"IsEncrypted": False, "Values": values}))
    return path


def test_local_settings_file_supplies_values_and_the_environment_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_local(tmp_path, {**LOCAL, "STAGING_CONTAINER": "from-file", "SECRET_EDW_SQL_PASSWORD": "f"})
    monkeypatch.setenv("STAGING_CONTAINER", "from-env")

    settings = load_settings(path)

    assert settings.staging_container == "from-env"
    assert settings.blob.connection_string == "UseDevelopmentStorage=true"
    assert settings.local_secrets["edw-sql-password"].get_secret_value() == "f"


def test_identity_based_connections_need_no_connection_string(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("DATAVERSE_URL", "DATAVERSE_TENANT_ID", "DATAVERSE_CLIENT_ID"):
        monkeypatch.setenv(name, LOCAL[name])
    monkeypatch.setenv("StagingStorage__blobServiceUri", "https://tphub.blob.core.windows.net")
    monkeypatch.setenv("StagingStorage__tableServiceUri", "https://tphub.table.core.windows.net")
    monkeypatch.setenv("ServiceBusConnection__fullyQualifiedNamespace", "tphub.servicebus.windows.net")
    monkeypatch.setenv("AZURE_CLIENT_ID", "11111111-2222-3333-4444-555555555555")

    settings = load_settings(None)

    assert settings.blob.connection_string is None
    assert settings.blob.service_uri == "https://tphub.blob.core.windows.net/"
    assert settings.blob.client_id == "11111111-2222-3333-4444-555555555555"
    assert settings.table.service_uri == "https://tphub.table.core.windows.net/"
    assert settings.table.client_id == "11111111-2222-3333-4444-555555555555"
    assert settings.service_bus_connection.fully_qualified_namespace == "tphub.servicebus.windows.net"


def test_missing_connection_names_both_ways_to_supply_it(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in LOCAL.items():
        if name != "StagingStorage":
            monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as error:
        load_settings(None)
    assert "StagingStorage" in str(error.value)
    assert "StagingStorage__blobServiceUri" in str(error.value)


def test_malformed_settings_are_named_without_echoing_their_values(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in LOCAL.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("KEY_VAULT_URI", "s3cr3t-not-a-url")
    monkeypatch.setenv("STAGING_CONTAINER", "Hub_Staging")
    monkeypatch.setenv("LOCAL_CA_BUNDLE", str(tmp_path / "missing.pem"))

    with pytest.raises(SettingsError) as error:
        load_settings(None)

    message = str(error.value)
    assert "KEY_VAULT_URI" in message and "STAGING_CONTAINER" in message and "LOCAL_CA_BUNDLE" in message
    assert "s3cr3t" not in message and "Hub_Staging" not in message


def test_broken_local_settings_file_is_reported_by_name(tmp_path: Path) -> None:
    path = tmp_path / "local.settings.json"
    path.write_text("{ not json")
    with pytest.raises(SettingsError, match=r"local\.settings\.json is not valid JSON"):
        load_settings(path)


def test_each_sync_runs_on_its_setting_or_its_declared_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for sync in SYNCS:
        monkeypatch.delenv(sync.schedule_setting, raising=False)
    wage_rates, job_codes = SYNCS_BY_NAME["wage_rates"], SYNCS_BY_NAME["job_codes"]
    path = write_local(tmp_path, {**LOCAL, "WAGE_RATES_SCHEDULE": "0 0 */2 * * *"})
    monkeypatch.setenv("JOB_CODES_SCHEDULE", "0 45 6 * * Mon-Fri")

    settings = load_settings(path)

    assert settings.schedule(wage_rates) == "0 0 */2 * * *"
    assert settings.schedule(job_codes) == "0 45 6 * * Mon-Fri"
    master = SYNCS_BY_NAME["master_customer_sites"]
    assert settings.schedule(master) == master.default_schedule == "0 0 3 * * *"


@pytest.mark.parametrize(
    ("setting", "schedule"),
    [
        (
            "WAGE_RATES_SCHEDULE",
            "0 */4 * * *",
        ),  # five-field Vixie cron: the host would read minutes as seconds
        ("GP_PAYMENT_STATUS_SCHEDULE", "0 61 * * * *"),
        ("GP_SWEEP_SCHEDULE", "every 15 minutes"),
        ("USER_ROLES_AND_SITES_SCHEDULE", ""),
    ],
)
def test_a_schedule_the_functions_host_would_refuse_stops_the_start_naming_its_setting(
    tmp_path: Path, setting: str, schedule: str
) -> None:
    with pytest.raises(SettingsError) as error:
        load_settings(write_local(tmp_path, {**LOCAL, setting: schedule}))

    message = str(error.value)
    assert f"{setting}: the value is not a" in message and "NCRONTAB" in message
    assert "__sync_schedules__" not in message
    if schedule:
        assert schedule not in message


@pytest.mark.parametrize("setting", EVERY_SCHEDULE_SETTING)
def test_every_timer_schedule_setting_is_typed_ncrontab(tmp_path: Path, setting: str) -> None:
    assert load_settings(write_local(tmp_path, {**LOCAL, setting: "0 15 2 * * Sun"}))
    with pytest.raises(SettingsError, match=f"{setting}: the value is not a six-field NCRONTAB"):
        load_settings(write_local(tmp_path, {**LOCAL, setting: "15 2 * * Sun"}))


def test_identity_based_storage_needs_the_table_endpoint_too(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("DATAVERSE_URL", "DATAVERSE_TENANT_ID", "DATAVERSE_CLIENT_ID"):
        monkeypatch.setenv(name, LOCAL[name])
    monkeypatch.setenv("StagingStorage__blobServiceUri", "https://tphub.blob.core.windows.net")
    monkeypatch.setenv("ServiceBusConnection__fullyQualifiedNamespace", "tphub.servicebus.windows.net")
    with pytest.raises(SettingsError) as error:
        load_settings(None)
    assert "StagingStorage__tableServiceUri" in str(error.value)


def test_state_tables_are_named_from_one_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in LOCAL.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("STATE_TABLE_PREFIX", "hubTest1")
    assert load_settings(None).state_tables.names == ("hubTest1Runs", "hubTest1Postings", "hubTest1Streams")
    monkeypatch.setenv("STATE_TABLE_PREFIX", "hub-state")
    with pytest.raises(SettingsError, match="STATE_TABLE_PREFIX"):
        load_settings(None)


def test_the_dataverse_collation_defaults_to_english_us_and_names_a_wrong_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert load_settings(write_local(tmp_path, LOCAL)).dataverse_collation == "CI_AI"
    monkeypatch.setenv("DATAVERSE_COLLATION", "CI_AS")
    assert load_settings(write_local(tmp_path, LOCAL)).dataverse_collation == "CI_AS"
    monkeypatch.setenv("DATAVERSE_COLLATION", "BIN2")
    with pytest.raises(SettingsError, match="DATAVERSE_COLLATION"):
        load_settings(write_local(tmp_path, LOCAL))
