"""Settings: read by their Azure names, checked at start-up, and never echoing a value."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shared.settings import SettingsError, load_settings

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
    monkeypatch.setenv("ServiceBusConnection__fullyQualifiedNamespace", "tphub.servicebus.windows.net")
    monkeypatch.setenv("AZURE_CLIENT_ID", "11111111-2222-3333-4444-555555555555")

    settings = load_settings(None)

    assert settings.blob.connection_string is None
    assert settings.blob.service_uri == "https://tphub.blob.core.windows.net/"
    assert settings.blob.client_id == "11111111-2222-3333-4444-555555555555"
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
