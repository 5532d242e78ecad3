"""The OpenAPI document against Power Platform's custom connector rules, as a lint that fails on a regression.

The rules are Microsoft's "Create a custom connector with an OpenAPI extension"
page and the connector designer's known weak spots: every property a flow
shows has a title (``x-ms-summary``, title case), a description that says
more than the title and a visibility; path parameters say their encoding;
streams and queues are picked from a list; no ``allOf``/``anyOf``/``oneOf``;
every value has a type; only the ``x-ms-*`` keys the designer knows, each
where it applies; operations carry ``summary`` (never ``x-ms-summary``); and
the function key and Entra ID are both described.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

from openapi_spec_validator import validate

from shared.api.callers import EntraAudience
from shared.api.openapi import openapi_document
from shared.live_reads.reads import LIVE_READS

READS = LIVE_READS  # the reads the app serves, as ``make connector`` writes them
VISIBILITIES = {"important", "advanced", "internal"}
# Where each extension applies, from Microsoft's list (and the connector swagger schema it publishes).
KNOWN = {
    "document": {"x-ms-capabilities", "x-ms-connector-metadata", "x-ms-docs"},
    "operation": {
        "x-ms-visibility", "x-ms-pageable", "x-ms-trigger", "x-ms-trigger-hint", "x-ms-trigger-metadata",
        "x-ms-notification", "x-ms-operation-context", "x-ms-capabilities", "x-ms-api-annotation",
        "x-ms-safe-operation", "x-ms-no-generic-test",
    },
    "parameter": {
        "x-ms-summary", "x-ms-visibility", "x-ms-dynamic-values", "x-ms-dynamic-list", "x-ms-dynamic-tree",
        "x-ms-enum-values", "x-ms-test-value", "x-ms-localizeDefaultValue", "x-ms-parameter-location",
        "x-ms-trigger-value",
    },
    "path parameter": {"x-ms-url-encoding"},
    "query parameter": {"x-ms-url-encoding"},
    "schema": {
        "x-ms-summary", "x-ms-visibility", "x-ms-dynamic-values", "x-ms-dynamic-list", "x-ms-enum",
        "x-ms-enum-values", "x-ms-test-value", "x-ms-localizeDefaultValue", "x-ms-notification-url",
        "x-ms-dynamic-schema", "x-ms-dynamic-properties",
    },
    "response": {"x-ms-summary"},
}  # fmt: skip


def _unknown(where: str, node: dict[str, Any], kind: str) -> Iterator[str]:
    allowed = KNOWN[kind] | (
        KNOWN.get(f"{node.get('in')} parameter", set()) if kind == "parameter" else set()
    )
    for key in node:
        if key.startswith("x-ms-") and key not in allowed:
            yield f"{where}: {key} does not apply to a {kind}"


def _is_title_case(text: str) -> bool:
    return all(word[0].isupper() or not word[0].isalpha() for word in text.split())


def _schema_violations(where: str, schema: dict[str, Any], shown: bool) -> Iterator[str]:
    """``shown``: the schema is a property a flow shows, so it needs a title, a description and a visibility."""
    for construct in ("allOf", "anyOf", "oneOf"):
        if construct in schema:
            yield f"{where}: {construct} (the designer needs one flat object)"
    yield from _unknown(where, schema, "schema")
    if "$ref" in schema:
        if shown:
            yield f"{where}: a property by $ref cannot carry its own title; spell the object out"
        return
    if "type" not in schema:
        yield f"{where}: no type"
    if shown:
        summary, description = schema.get("x-ms-summary"), schema.get("description")
        if not summary or not _is_title_case(summary):
            yield f"{where}: x-ms-summary {summary!r} is missing or not in title case"
        if not description or description == summary:
            yield f"{where}: the description must say more than the summary"
        if schema.get("x-ms-visibility") not in VISIBILITIES - {"internal"}:
            yield f"{where}: x-ms-visibility {schema.get('x-ms-visibility')!r} is not important or advanced"
    for name, prop in schema.get("properties", {}).items():
        yield from _schema_violations(f"{where}.{name}", prop, shown=True)
    if isinstance(schema.get("items"), dict):
        yield from _schema_violations(f"{where}[]", schema["items"], shown=False)
    if isinstance(schema.get("additionalProperties"), dict):
        yield from _schema_violations(f"{where}{{}}", schema["additionalProperties"], shown=False)


def _operations(document: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        for method, operation in item.items():
            yield f"{method.upper()} {path}", operation


def connector_violations(document: dict[str, Any]) -> list[str]:
    """Every way ``document`` breaks the connector rules, each naming where; empty when it keeps them all."""
    found = list(_unknown("document", document, "document"))
    ids = {operation["operationId"]: operation for _, operation in _operations(document)}
    for name, definition in document["definitions"].items():
        found += _schema_violations(f"definitions.{name}", definition, shown=False)
    for where, operation in _operations(document):
        found += _unknown(where, operation, "operation")
        if not operation.get("summary") or operation.get("description") == operation.get("summary"):
            found.append(f"{where}: needs a summary and a description that says more")
        if operation.get("security") == [] and operation.get("x-ms-visibility") != "internal":
            found.append(f"{where}: an anonymous operation (health, this document) is internal")
        for parameter in operation["parameters"]:
            at = f"{where} {parameter['in']} {parameter['name']}"
            found += _unknown(at, parameter, "parameter")
            summary = parameter.get("x-ms-summary")
            if not summary or not _is_title_case(summary) or parameter.get("description") == summary:
                found.append(f"{at}: needs an x-ms-summary in title case and a different description")
            if parameter.get("x-ms-visibility") not in VISIBILITIES:
                found.append(f"{at}: no x-ms-visibility")
            if parameter["in"] == "path" and parameter.get("x-ms-url-encoding") != "single":
                found.append(f"{at}: a path parameter needs x-ms-url-encoding: single")
            if parameter["in"] == "body":
                found += _schema_violations(f"{at} schema", parameter["schema"], shown=False)
            elif "type" not in parameter:
                found.append(f"{at}: no type")
            if parameter["name"] == "stream":
                source = parameter.get("x-ms-dynamic-values", {})
                if source.get("operationId") != "ListSyncs" or source["operationId"] not in ids:
                    found.append(f"{at}: a stream is picked from ListSyncs (x-ms-dynamic-values)")
            if parameter["name"] == "queue" and not parameter.get("enum"):
                found.append(f"{at}: a queue is picked from the hub's queues (enum)")
        for status, response in operation["responses"].items():
            found += _unknown(f"{where} {status}", response, "response")
            if "schema" in response:
                found += _schema_violations(f"{where} {status}", response["schema"], shown=False)
    security = document.get("securityDefinitions", {})
    if security.get("functionKey") != {**security.get("functionKey", {}), "type": "apiKey", "in": "header"}:
        found.append("securityDefinitions: the function key is an apiKey header")
    entra = security.get("entraId", {})
    if entra.get("type") != "oauth2" or entra.get("flow") != "accessCode" or "tokenUrl" not in entra:
        found.append("securityDefinitions: Entra ID is an oauth2 accessCode flow")
    return found


def test_the_document_keeps_every_connector_rule() -> None:
    assert connector_violations(openapi_document(READS)) == []


def test_with_entra_id_every_keyed_call_needs_the_key_and_a_token_of_the_tenant() -> None:
    audience = EntraAudience("11111111-2222-3333-4444-555555555555", "tenant-guid")
    document = openapi_document(READS, entra=audience)
    validate(document)
    assert connector_violations(document) == []
    assert document["security"] == [{"functionKey": [], "entraId": []}]
    entra = document["securityDefinitions"]["entraId"]
    assert entra["authorizationUrl"] == "https://login.microsoftonline.com/tenant-guid/oauth2/v2.0/authorize"
    assert entra["tokenUrl"] == "https://login.microsoftonline.com/tenant-guid/oauth2/v2.0/token"
    assert list(entra["scopes"]) == ["api://11111111-2222-3333-4444-555555555555/.default"]
    assert openapi_document(READS)["security"] == [{"functionKey": []}]


def test_the_lint_catches_each_kind_of_regression() -> None:
    good = openapi_document(READS)
    run = good["definitions"]["Run"]["properties"]

    def broken(change: Any) -> list[str]:
        document = copy.deepcopy(good)
        change(document)
        return connector_violations(document)

    def definition(document: dict[str, Any]) -> dict[str, Any]:
        return document["definitions"]["Run"]["properties"]  # type: ignore[no-any-return]

    assert "status" in run and "extract" in run
    assert broken(lambda d: definition(d)["status"].pop("x-ms-summary"))
    assert broken(
        lambda d: definition(d)["status"].update(description=definition(d)["status"]["x-ms-summary"])
    )
    assert broken(lambda d: definition(d)["status"].pop("type"))
    assert broken(lambda d: definition(d).update(extract={"allOf": [{"$ref": "#/definitions/Run"}]}))
    assert broken(lambda d: definition(d)["status"].update({"x-ms-cache-seconds": 30}))
    assert broken(lambda d: d["paths"]["/v1/runs/{id}"]["get"].update({"x-ms-summary": "Get a run"}))
    assert broken(lambda d: d["paths"]["/v1/runs/{id}"]["get"]["parameters"][0].pop("x-ms-url-encoding"))
    assert broken(
        lambda d: d["paths"]["/v1/syncs/{stream}"]["post"]["parameters"][0].pop("x-ms-dynamic-values")
    )
    assert broken(lambda d: d["securityDefinitions"].pop("entraId"))
    assert broken(lambda d: d["paths"]["/health"]["get"].pop("x-ms-visibility"))


def test_path_parameters_pick_streams_from_list_syncs_and_queues_from_the_hubs() -> None:
    document = openapi_document(READS, queues=("sync-requests", "batch-loads", "gp-postings-test"))
    start = document["paths"]["/v1/syncs/{stream}"]["post"]["parameters"][0]
    assert start["x-ms-dynamic-values"] == {
        "operationId": "ListSyncs", "value-collection": "value", "value-path": "stream", "value-title": "stream"
    }  # fmt: skip
    listed = document["paths"]["/v1/syncs"]["get"]["responses"]["200"]["schema"]["$ref"]
    assert listed == "#/definitions/SyncList"
    assert document["definitions"]["SyncList"]["properties"]["value"]["items"] == {
        "$ref": "#/definitions/Sync"
    }
    assert "stream" in document["definitions"]["Sync"]["properties"]
    queue = document["paths"]["/v1/deadletters/{queue}"]["get"]["parameters"][0]
    assert queue["enum"] == ["sync-requests", "batch-loads", "gp-postings-test"]


def test_the_run_spells_out_its_counts_and_types_its_cursor_values() -> None:
    run = openapi_document(READS)["definitions"]["Run"]["properties"]
    assert run["extract"]["type"] == "object" and run["extract"]["properties"]["read"]["type"] == "integer"
    for name in ("windowStart", "windowEnd", "watermarkBefore", "watermarkAfter"):
        assert run[name]["type"] == "string", name
    assert (
        run["status"]["x-ms-visibility"] == "important" and run["attempts"]["x-ms-visibility"] == "advanced"
    )
