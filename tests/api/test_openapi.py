"""The OpenAPI 2.0 document: valid Swagger, under 1 MB, connector-ready, and exactly the routes the app serves."""

from __future__ import annotations

import functools
import importlib
import json
from typing import Any

import pytest
from openapi_spec_validator import validate
from pydantic import BaseModel

from functions.api import function_name
from functions.revenue_submissions import GRAPH_WEBHOOK_ROUTE
from localdev.functions_host.catalog import Catalog, read_catalog
from localdev.functions_host.routes import RouteTemplate
from shared.api.openapi import openapi_document
from shared.api.operations import SERVED_OPERATIONS
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
        # An operation's title is its summary; x-ms-summary titles parameters and properties only.
        assert op["summary"] and "x-ms-summary" not in op and op["description"], (path, method)
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


@functools.cache
def _indexed_app() -> Catalog:
    """``function_app`` read as the local host reads it (once: the SDK refuses to index an app twice)."""
    settings = {
        "StagingStorage": "UseDevelopmentStorage=true",
        "ServiceBusConnection": "Endpoint=sb://127.0.0.1;SharedAccessKeyName=k;SharedAccessKey=v;UseDevelopmentEmulator=true",
        "DATAVERSE_URL": "https://127.0.0.1:7081",
        "DATAVERSE_TENANT_ID": "tenant",
        "DATAVERSE_CLIENT_ID": "client",
    }
    with pytest.MonkeyPatch.context() as monkeypatch:
        for name, value in settings.items():
            monkeypatch.setenv(name, value)
        return read_catalog(importlib.import_module("function_app").app, environment={})


def _http_triggers() -> dict[str, dict[str, Any]]:
    """The app's HTTP triggers but Graph's webhook, which Graph calls and no API client does."""
    return {
        function.name: function.trigger
        for function in _indexed_app().functions
        if function.trigger_type == "httptrigger" and function.trigger["route"] != GRAPH_WEBHOOK_ROUTE
    }


def test_the_one_trigger_outside_the_api_is_graphs_anonymous_webhook() -> None:
    outside = [
        function.trigger
        for function in _indexed_app().functions
        if function.trigger_type == "httptrigger" and function.trigger["route"] == GRAPH_WEBHOOK_ROUTE
    ]
    assert outside == [
        {
            "type": "httpTrigger",
            "direction": "IN",
            "name": "req",
            "route": GRAPH_WEBHOOK_ROUTE,
            "methods": ["POST"],
            "authLevel": "ANONYMOUS",
        }
    ]


def _app_routes() -> set[tuple[str, str]]:
    return {
        (str(method).upper(), trigger["route"])
        for trigger in _http_triggers().values()
        for method in trigger["methods"]
    }


def test_every_route_the_app_serves_is_documented_and_nothing_else() -> None:
    served = _app_routes()
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


def test_each_served_operation_is_one_trigger_named_after_it_as_the_worker_indexes_it() -> None:
    assert _indexed_app().in_error == []
    http = _http_triggers()
    assert http == {
        function_name(operation): {
            "type": "httpTrigger",
            "direction": "IN",
            "name": "req",
            "route": operation.route,
            "methods": [operation.method],
            "authLevel": operation.auth_level.upper(),
        }
        for operation in SERVED_OPERATIONS
    }
    assert {"start_sync", "get_gp_posting", "list_dead_letters", "get_health"} <= set(http)


def test_operations_that_take_a_body_declare_413_and_415_as_problems_and_only_they() -> None:
    for path, method, op in _operations(openapi_document(READS)):
        takes_body = any(parameter["in"] == "body" for parameter in op["parameters"])
        declared = {status for status in ("413", "415") if status in op["responses"]}
        assert declared == ({"413", "415"} if takes_body else set()), (method, path)
        for status in declared:
            assert op["responses"][status]["schema"] == {"$ref": "#/definitions/Problem"}


def test_a_property_always_sent_that_may_be_null_is_x_nullable_and_no_other() -> None:
    class Row(BaseModel):
        revenue: float | None
        count: float
        note: str | None = None  # left out when unknown, as the API's own outputs are

    read = SiteTotals(name="rows-with-nulls", row=Row)
    properties = openapi_document([read])["definitions"]["Row"]["properties"]
    assert properties["revenue"]["type"] == "number" and properties["revenue"]["x-nullable"] is True
    assert "x-nullable" not in properties["count"] and "x-nullable" not in properties["note"]


def test_no_keyed_operation_promises_a_body_with_its_401() -> None:
    """The host refuses a missing function key with an empty 401 before the hub runs (schemathesis found one)."""
    for path, method, op in _operations(openapi_document(READS)):
        if "401" in op["responses"]:
            assert "schema" not in op["responses"]["401"], (method, path)
            assert "empty body" in op["responses"]["401"]["description"], (method, path)
