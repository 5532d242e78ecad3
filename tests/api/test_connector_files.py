"""``make connector``: an API definition a maker imports without editing, and the apiProperties.json beside it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from openapi_spec_validator import validate

from functions.api import _scheme
from localdev.connector import write_connector
from shared.api.http import ApiRequest
from shared.settings import ConnectorSettings
from tests.api.test_connector_rules import connector_violations

REPO = Path(__file__).resolve().parents[2]
CLIENT_ID = "11111111-2222-3333-4444-555555555555"
TENANT_ID = "99999999-8888-7777-6666-555555555555"


def _written(tmp_path: Path, **values: str) -> tuple[dict[str, Any], dict[str, Any]]:
    definition, properties = write_connector(tmp_path / "hub.swagger.json", ConnectorSettings(**values))
    assert properties == tmp_path / "apiProperties.json"
    return json.loads(definition.read_text()), json.loads(properties.read_text())["properties"]


def test_the_definition_names_its_host_and_keeps_the_connector_rules(tmp_path: Path) -> None:
    document, properties = _written(tmp_path, CONNECTOR_HOST="func-hub.azurewebsites.net")
    validate(document)
    assert connector_violations(document) == []
    assert document["host"] == "func-hub.azurewebsites.net" and document["schemes"] == ["https"]
    assert document["security"] == [{"functionKey": []}]
    assert list(properties["connectionParameters"]) == ["api_key"]
    local, _ = _written(tmp_path, CONNECTOR_HOST="127.0.0.1:7071")
    assert local["host"] == "127.0.0.1:7071" and local["schemes"] == ["http"]


def test_the_properties_send_the_key_and_route_every_paged_operations_next_link(tmp_path: Path) -> None:
    document, properties = _written(tmp_path, CONNECTOR_HOST="func-hub.azurewebsites.net")
    key, pages = properties["policyTemplateInstances"]
    assert key["templateId"] == "setheader"
    assert key["parameters"]["x-ms-apimTemplateParameter.name"] == "x-functions-key"
    assert key["parameters"]["x-ms-apimTemplateParameter.value"] == "@connectionParameters('api_key')"
    pageable = {
        operation["operationId"]: operation["x-ms-pageable"]["nextLinkName"]
        for item in document["paths"].values()
        for operation in item.values()
        if "x-ms-pageable" in operation
    }
    assert pages["templateId"] == "updatenextlink"
    assert pageable == dict.fromkeys(pages["parameters"]["x-ms-apimTemplate-operationName"], "nextLink")
    assert pages["parameters"]["x-ms-apimTemplateParameter.nextLinkPropertyName"] == "nextLink"


def test_with_the_apis_entra_registration_the_connection_signs_in_for_its_audience(tmp_path: Path) -> None:
    document, properties = _written(
        tmp_path,
        CONNECTOR_HOST="func-hub.azurewebsites.net",
        API_ENTRA_CLIENT_ID=CLIENT_ID,
        API_ENTRA_TENANT_ID=TENANT_ID,
    )
    assert document["security"] == [{"functionKey": [], "entraId": []}]
    token = properties["connectionParameters"]["token"]
    settings = token["oAuthSettings"]
    assert token["type"] == "oauthSetting" and settings["identityProvider"] == "aad"
    assert settings["clientId"] == CLIENT_ID
    assert settings["redirectUrl"] == "https://global.consent.azure-apim.net/redirect"
    assert settings["customParameters"]["resourceUri"] == {
        "value": f"api://{CLIENT_ID}"
    }  # an audience the API takes
    assert settings["customParameters"]["tenantId"] == {"value": TENANT_ID}
    assert settings["customParameters"]["loginUri"] == {"value": "https://login.microsoftonline.com"}
    assert "api_key" in properties["connectionParameters"]  # the Functions host still wants the key
    _, own_client = _written(
        tmp_path, API_ENTRA_CLIENT_ID=CLIENT_ID, API_ENTRA_TENANT_ID=TENANT_ID, CONNECTOR_ENTRA_CLIENT_ID="c0"
    )
    assert own_client["connectionParameters"]["token"]["oAuthSettings"]["clientId"] == "c0"


def test_make_connector_writes_both_files_for_the_host_it_is_given(tmp_path: Path) -> None:
    target = tmp_path / "hub-connector.swagger.json"
    environment = {**os.environ, "CONNECTOR_HOST": "func-hub.azurewebsites.net"}
    done = subprocess.run(
        [sys.executable, "-m", "localdev.connector", str(target)],
        cwd=REPO,
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    )
    assert "paconn create --api-def" in done.stdout
    assert json.loads(target.read_text())["host"] == "func-hub.azurewebsites.net"
    assert "connectionParameters" in json.loads((tmp_path / "apiProperties.json").read_text())["properties"]


def test_links_name_the_host_and_scheme_the_caller_used() -> None:
    local = ApiRequest("GET", "/api/v1/runs", {"host": "127.0.0.1:7071"}, scheme="http")
    assert local.link("/api/v1/runs?top=1") == "http://127.0.0.1:7071/api/v1/runs?top=1"
    proxied = ApiRequest("GET", "/", {"host": "10.0.0.4", "x-forwarded-host": "func-hub.azurewebsites.net"})
    assert proxied.link("/api/x") == "https://func-hub.azurewebsites.net/api/x"
    assert ApiRequest("GET", "/").link("/api/x") == "/api/x"
    assert _scheme("http://127.0.0.1:7071/api/v1/openapi.json", {}) == "http"
    assert _scheme("http://10.0.0.4/api/v1/openapi.json", {"x-forwarded-proto": "https"}) == "https"
    assert _scheme("https://func-hub.azurewebsites.net/api", {}) == "https"
