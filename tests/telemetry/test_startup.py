"""Telemetry is set up once at start-up by the settings, and costs nothing to import when it is off."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import certifi
import pytest

from localdev import services

_PROBE = (  # index the app, start telemetry as the first invocation does, then say what got imported
    "import sys, function_app; from shared.telemetry.startup import start_telemetry;"
    "from shared.settings import hub_settings; exporter = start_telemetry(hub_settings());"
    "print(sorted({m.split('.')[0] + '.' + m.split('.')[1] for m in sys.modules"
    " if m.startswith(('opentelemetry.', 'azure.monitor'))}));"
    "print(exporter)"
)
_OFF = {
    "APPLICATIONINSIGHTS_CONNECTION_STRING": "",
    "LOCAL_TELEMETRY_FOLDER": "",
    "OTEL_EXPORTER_OTLP_ENDPOINT": "",
}
# The settings the app needs to index, so the probe does not depend on a local.settings.json.
_APP = {
    "StagingStorage": "UseDevelopmentStorage=true",
    "ServiceBusConnection": "Endpoint=sb://127.0.0.1:5672;SharedAccessKeyName=RootManageSharedAccessKey;"
    "SharedAccessKey=SAS_KEY_VALUE;UseDevelopmentEmulator=true;",
    "DATAVERSE_URL": "https://127.0.0.1:7081",
    "DATAVERSE_TENANT_ID": "7a0c0d6e-5d1f-4c52-9a6e-0000000000tp",
    "DATAVERSE_CLIENT_ID": "5f3e2b1a-hub0-4d6c-8e9f-000000000001",
    "LOCAL_CA_BUNDLE": certifi.where(),
}


def _import_app(settings: dict[str, str]) -> tuple[list[str], str]:
    done = subprocess.run(
        [sys.executable, "-c", _PROBE],
        cwd=services.REPO,
        env={**os.environ, **_APP, **_OFF, **settings},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    modules, exporter = done.stdout.strip().splitlines()[-2:]
    return json.loads(modules.replace("'", '"')), exporter


def test_with_no_exporter_configured_nothing_of_opentelemetry_is_imported() -> None:
    modules, exporter = _import_app({})
    assert (modules, exporter) == ([], "None")


def test_a_telemetry_folder_turns_on_the_sdk_file_exporters(tmp_path: Path) -> None:
    modules, exporter = _import_app({"LOCAL_TELEMETRY_FOLDER": str(tmp_path / "telemetry")})
    assert exporter == "files"
    assert "opentelemetry.sdk" in modules and "azure.monitor" not in modules
    assert {path.name for path in (tmp_path / "telemetry").iterdir()} == {
        "spans.jsonl",
        "metrics.jsonl",
        "logs.jsonl",
    }


def test_a_connection_string_configures_the_azure_monitor_distro_with_the_managed_identity() -> None:
    """Nothing is sent here (no Azure); the distro must accept the hub's options and start."""
    modules, exporter = _import_app(
        {
            "APPLICATIONINSIGHTS_CONNECTION_STRING": "InstrumentationKey=00000000-0000-0000-0000-000000000000;"
            "IngestionEndpoint=http://127.0.0.1:9/",
            "APPLICATIONINSIGHTS_STATSBEAT_DISABLED_ALL": "true",
        }
    )
    assert exporter == "azure_monitor"
    assert "azure.monitor" in modules


@pytest.mark.parametrize("telemetry", [{}, {"LOCAL_TELEMETRY_FOLDER": "telemetry-of-a-first-invocation"}])
def test_indexing_the_app_loads_none_of_the_sdks_the_hub_uses_on_first_use(
    telemetry: dict[str, str], tmp_path: Path
) -> None:
    """``import function_app`` stays cheap: triggers build the hub (its SDKs, its telemetry) when first
    invoked, whether or not an exporter is configured."""
    probe = (
        "import sys, function_app;"
        "print(sorted({m.split('.')[0] + '.' + m.split('.')[1] if m.startswith('azure.') else m.split('.')[0]"
        " for m in sys.modules if m.startswith(('azure.storage', 'azure.data', 'azure.servicebus', 'azure.identity',"
        " 'sqlalchemy', 'msal', 'httpx', 'opentelemetry'))}))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=services.REPO,
        env={
            **os.environ,
            **_APP,
            **_OFF,
            **{name: str(tmp_path / value) for name, value in telemetry.items()},
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert done.stdout.strip().splitlines()[-1] == "[]"
