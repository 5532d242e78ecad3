"""The OpenAPI 2.0 document: valid Swagger, under 1 MB, connector-ready, and exactly the routes the app serves."""

from __future__ import annotations

import importlib
import json
from typing import Any

import pytest
from openapi_spec_validator import validate

from localdev.functions_host.routes import RouteTemplate
from shared.api.openapi import openapi_document
from tests.api.api_world import SiteTotals

READS = [SiteTotals()]


def test_the_document_is_valid_swagger_2_under_one_megabyte() -> None:
    document = openapi_document(READS)
    validate(document)
    assert document["swagger"] == "2.0"
    assert len(json.dumps(document).encode()) < 1_000_000
    assert document["securityDefinitions"]["functionKey"] == {
        "type": "apiKey", "in": "header", "name": "x-functions-key"
    }  # fmt: skip


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(path, method, op) for path, item in document["paths"].items() for method, op in item.items()]


def test_every_operation_and_parameter_is_named_for_makers() -> None:
    operations = _operations(openapi_document(READS))
    ids = [op["operationId"] for _, _, op in operations]
    assert len(ids) == len(set(ids))
    for path, method, op in operations:
        assert op["summary"] and op["x-ms-summary"] and op["description"], (path, method)
        for parameter in op["parameters"]:
            assert parameter["x-ms-summary"] and parameter["description"], (path, parameter["name"])


def test_the_polling_pattern_and_typed_live_reads_are_described() -> None:
    paths = openapi_document(READS)["paths"]
    started = paths["/v1/syncs/{stream}"]["post"]["responses"]["202"]
    assert set(started["headers"]) == {"Location", "Retry-After"}
    polled = paths["/v1/runs/{id}"]["get"]["responses"]
    assert {"200", "202"} <= set(polled) and "Location" in polled["202"]["headers"]
    read = paths["/v1/edw/site-totals"]["get"]
    assert [parameter["name"] for parameter in read["parameters"]] == ["siteNumber", "year"]
    assert "304" in read["responses"] and "ETag" in read["responses"]["200"]["headers"]
    assert paths["/health"]["get"]["security"] == [] and paths["/v1/openapi.json"]["get"]["security"] == []


def _app_routes(monkeypatch: pytest.MonkeyPatch) -> set[tuple[str, str]]:
    for name, value in {
        "StagingStorage": "UseDevelopmentStorage=true",
        "ServiceBusConnection": "Endpoint=sb://127.0.0.1;SharedAccessKeyName=k;SharedAccessKey=v;UseDevelopmentEmulator=true",
        "DATAVERSE_URL": "https://127.0.0.1:7081",
        "DATAVERSE_TENANT_ID": "tenant",
        "DATAVERSE_CLIENT_ID": "client",
    }.items():
        monkeypatch.setenv(name, value)
    app = importlib.import_module("function_app").app
    routes = set()
    for function in app.get_functions():
        trigger = function.get_trigger()
        if trigger.get_binding_name() == "httpTrigger":
            for method in trigger.methods or ():
                routes.add((str(method.value if hasattr(method, "value") else method).upper(), trigger.route))
    return routes


def test_every_route_the_app_serves_is_documented_and_nothing_else(monkeypatch: pytest.MonkeyPatch) -> None:
    served = _app_routes(monkeypatch)
    documented = {
        (method.upper(), path.lstrip("/")) for path, method, _ in _operations(openapi_document(READS))
    }

    def matches(method: str, route: str, other_method: str, path: str) -> bool:
        concrete = "/" + path.replace("{", "").replace("}", "")
        return method == other_method and RouteTemplate(route).match(concrete) is not None

    undocumented = {(m, r) for m, r in served if not any(matches(m, r, dm, dp) for dm, dp in documented)}
    unserved = {(dm, dp) for dm, dp in documented if not any(matches(m, r, dm, dp) for m, r in served)}
    assert undocumented == set()
    assert unserved == set()
