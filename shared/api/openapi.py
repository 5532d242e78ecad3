"""The OpenAPI 2.0 (Swagger) document Power Platform imports as a custom connector.

Built from the operation table and the same pydantic models the handlers
validate with. Power Platform custom connectors import Swagger 2.0 only, so
pydantic's JSON Schema is rewritten into the subset 2.0 allows: ``$defs``
become ``definitions``, and an optional value is an optional property (the API
leaves it out rather than sending null); a property always sent that may be
null, as an EDW row's, carries ``x-nullable``.

The connector designer's own rules (Microsoft's "OpenAPI extensions" for
custom connectors) are kept too: every property a flow shows has a title
(``x-ms-summary``), a description and a visibility; a nested object is
spelled out in place rather than through ``allOf``; path parameters say how
they are encoded; a stream or queue is picked from a list; and only the
``x-ms-*`` keys the designer knows appear. ``tests/api/test_connector_rules.py``
holds the document to these rules.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ValidationError

from shared.api.live_reads import LiveRead
from shared.api.operations import Operation, Reply, documented_operations
from shared.api.problems import Problem
from shared.settings import Settings

if TYPE_CHECKING:  # the token checker loads PyJWT; the document only reads the registration's names
    from shared.api.callers import EntraAudience

API_VERSION = "1.0"
# The hub's queues as its settings name them by default (the served document names the configured ones).
HUB_QUEUES = tuple(
    Settings.model_fields[name].default
    for name in ("sync_requests_queue", "batch_loads_queue", "gp_postings_queue")
)
_PUBLIC_AUTHORITY = "https://login.microsoftonline.com"
# A maker picks a stream from what ListSyncs answers rather than typing its name.
_STREAMS = {
    "operationId": "ListSyncs",
    "value-collection": "value",
    "value-path": "stream",
    "value-title": "stream",
}
_KEEP = (
    "type", "format", "enum", "pattern", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum",
    "minLength", "maxLength", "minItems", "maxItems", "uniqueItems", "multipleOf", "default", "example",
    "description",
)  # fmt: skip
_PARAMETER_KEEP = tuple(key for key in _KEEP if key != "example")


def openapi_document(
    reads: Sequence[LiveRead],
    host: str | None = None,
    scheme: str = "https",
    *,
    entra: EntraAudience | None = None,
    queues: Sequence[str] = HUB_QUEUES,
) -> dict[str, Any]:
    """The whole document, as served at ``scheme://host``; without ``host`` the importer asks for one.

    ``entra`` is the API's app registration when it takes Entra ID tokens:
    then every keyed call needs the key and a token, and the document says so.
    """
    definitions: dict[str, Any] = {}
    _schema(Problem, "serialization", definitions)
    paths: dict[str, Any] = {}
    for operation in documented_operations(reads):
        paths.setdefault("/" + operation.route, {})[operation.method.lower()] = _operation(
            operation, definitions, queues
        )
    document: dict[str, Any] = {
        "swagger": "2.0",
        "info": {
            "title": "Towne Park Integration Hub",
            "description": "Start and watch the hub's syncs, handle dead letters, and read the EDW live. "
            "Long work answers 202 Accepted with Location and Retry-After: poll Location until it answers 200.",
            "version": API_VERSION,
            "contact": {"name": "Towne Park integration team"},
        },
        "basePath": "/api",
        "schemes": [scheme],
        "consumes": ["application/json"],
        "produces": ["application/json", "application/problem+json"],
        "securityDefinitions": {
            "functionKey": {"type": "apiKey", "in": "header", "name": "x-functions-key"},
            "entraId": _entra_definition(entra),
        },
        "security": [{"functionKey": [], "entraId": []}] if entra else [{"functionKey": []}],
        "paths": paths,
        "definitions": _referenced(definitions, paths),
    }
    if host:
        document["host"] = host
    return document


def _entra_definition(entra: EntraAudience | None) -> dict[str, Any]:
    """Entra ID's authorization-code flow for the API's registration (a placeholder tenant until it has one)."""
    authority = (entra.authority_host if entra else _PUBLIC_AUTHORITY).rstrip("/")
    tenant = entra.tenant_id if entra else "common"
    scopes = (
        {f"api://{entra.client_id}/.default": "Call the hub with the app roles you hold."} if entra else {}
    )
    return {
        "type": "oauth2",
        "flow": "accessCode",
        "authorizationUrl": f"{authority}/{tenant}/oauth2/v2.0/authorize",
        "tokenUrl": f"{authority}/{tenant}/oauth2/v2.0/token",
        "scopes": scopes,
        "description": "An Entra ID token for the API's app registration; its app roles "
        "(Integration.Read, .Run, .Admin) decide what the caller may do. Sent with the function key.",
    }


def _operation(operation: Operation, definitions: dict[str, Any], queues: Sequence[str]) -> dict[str, Any]:
    parameters: list[dict[str, Any]] = []
    if operation.path is not None:
        parameters += _parameters(operation.path, "path", definitions, queues)
    if operation.query is not None:
        parameters += _parameters(operation.query, "query", definitions, queues)
    parameters += [
        {
            "name": header.name,
            "in": "header",
            "required": False,
            "type": header.type,
            "description": header.description,
            "x-ms-summary": header.name,
            "x-ms-visibility": "advanced",
        }
        for header in operation.request_headers
    ]
    if operation.body is not None:
        parameters.append(
            {
                "name": "body",
                "in": "body",
                "required": _body_required(operation.body),
                "description": operation.body.__doc__ or "The request.",
                "x-ms-summary": "Request",
                "x-ms-visibility": "important",
                "schema": _schema(operation.body, "validation", definitions),
            }
        )
    answer: dict[str, Any] = {
        "operationId": operation.operation_id,
        "summary": operation.summary,
        "description": operation.description,
        "tags": list(operation.tags),
        "parameters": parameters,
        "responses": _responses(operation, definitions),
        **operation.extensions,
    }
    if operation.produces:
        answer["produces"] = ["application/json", *operation.produces, "application/problem+json"]
    if operation.auth_level == "anonymous":
        answer["security"] = []
        answer["x-ms-visibility"] = "internal"  # the probes and this document: not actions for a flow
    return answer


def _body_required(model: type[BaseModel]) -> bool:
    """A body is required when a call without one is refused (the pipeline reads a missing body as ``{}``)."""
    try:
        model.model_validate_json(b"{}")
    except ValidationError:
        return True
    return False


_HOST_401 = "No valid function key (empty body) or bearer token (a problem)."
_HOST_401_TOO = "Without a valid function key, the host answers 401 with an empty body."


def _responses(operation: Operation, definitions: dict[str, Any]) -> dict[str, Any]:
    responses: dict[str, Any] = {}
    for reply in operation.replies:
        responses[str(reply.status)] = _response(reply, definitions)
    problem = {"$ref": "#/definitions/Problem"}
    statuses = {
        400: "Refused input, each field named in errors.",
        500: "The hub failed; quote correlationId.",
    }
    if operation.auth_level != "anonymous":
        statuses |= {
            401: "No valid function key or bearer token.",
            403: "The caller lacks the app role this call needs.",
            429: "Too many calls from this caller: wait Retry-After seconds.",
            503: "A dependency is unavailable: wait Retry-After seconds.",
        }
    if operation.body is not None:
        statuses |= {
            413: "The body is longer than the hub accepts (API_MAX_BODY_BYTES).",
            415: "The body is not application/json.",
        }
    for status, description in statuses.items():
        responses.setdefault(str(status), {"description": description, "schema": problem})
    for reply in operation.replies:
        if reply.model is None and not reply.raw and reply.status >= 400:
            responses[str(reply.status)]["schema"] = problem
    if operation.auth_level != "anonymous":
        # The Functions host refuses a missing key itself, with an empty body, before any of the hub's code
        # runs, so no 401 of a keyed operation can promise a body, even where the hub's own 401 is a problem.
        own = next((reply.description for reply in operation.replies if reply.status == 401), None)
        responses["401"] = {"description": _HOST_401 if own is None else f"{own} {_HOST_401_TOO}"}
    return dict(sorted(responses.items()))


def _response(reply: Reply, definitions: dict[str, Any]) -> dict[str, Any]:
    response: dict[str, Any] = {"description": reply.description}
    if reply.model is not None:
        response["schema"] = _schema(reply.model, "serialization", definitions)
    elif reply.raw:
        response["schema"] = {"type": "object"}
    if reply.headers:
        response["headers"] = {
            header.name: {"type": header.type, "description": header.description} for header in reply.headers
        }
    return response


def _parameters(
    model: type[BaseModel], where: str, definitions: dict[str, Any], queues: Sequence[str]
) -> list[dict[str, Any]]:
    schema = model.model_json_schema(by_alias=True, mode="validation", ref_template="#/$defs/{model}")
    local_defs = schema.get("$defs", {})
    required = set(schema.get("required", ()))
    parameters = []
    for name, raw in schema.get("properties", {}).items():
        prop = _inline(_collapse(raw), local_defs)
        parameter: dict[str, Any] = {
            "name": name,
            "in": where,
            "required": where == "path" or name in required,
            "x-ms-summary": raw.get("title") or prop.get("title") or name,
            "description": raw.get("description") or prop.get("description") or raw.get("title") or name,
        }
        parameter.update({key: prop[key] for key in _PARAMETER_KEEP if key in prop and key != "description"})
        if "type" not in parameter or parameter["type"] in ("object", "null"):
            parameter["type"] = "string"
        if parameter["type"] == "array":
            parameter["items"] = _parameter_items(_inline(_collapse(prop.get("items", {})), local_defs))
            parameter["collectionFormat"] = "csv"
        if where == "path" or parameter.get("default") is None:
            parameter.pop("default", None)
        parameters.append(_for_makers(parameter, queues))
    return parameters


def _for_makers(parameter: dict[str, Any], queues: Sequence[str]) -> dict[str, Any]:
    """What the connector designer needs beyond Swagger: visibility, encoding, and lists to pick from."""
    parameter["x-ms-visibility"] = "important" if parameter["required"] else "advanced"
    if parameter["in"] == "path":
        parameter["x-ms-url-encoding"] = "single"
    if parameter["name"] == "stream":
        parameter["x-ms-dynamic-values"] = dict(_STREAMS)
    elif parameter["name"] == "queue":
        parameter["enum"] = list(queues)
    return parameter


def _parameter_items(items: dict[str, Any]) -> dict[str, Any]:
    kept = {key: items[key] for key in _PARAMETER_KEEP if key in items and key != "description"}
    kept.setdefault("type", "string")
    return kept


def _inline(schema: dict[str, Any], local_defs: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if isinstance(ref, str):
        return _collapse(local_defs.get(ref.rsplit("/", 1)[-1], {}))
    return schema


def _schema(model: type[BaseModel], mode: str, definitions: dict[str, Any]) -> dict[str, Any]:
    """Add ``model`` and what it refers to to ``definitions``; return a reference to it."""
    schema = model.model_json_schema(by_alias=True, mode=mode, ref_template="#/definitions/{model}")  # type: ignore[arg-type]
    nested = schema.pop("$defs", {})
    for name, definition in nested.items():
        definitions[name] = _swagger(definition, nested)
    definitions[model.__name__] = _swagger(schema, nested)
    return {"$ref": f"#/definitions/{model.__name__}"}


def _collapse(schema: dict[str, Any]) -> dict[str, Any]:
    """``anyOf: [X, null]`` is X; any other choice of types is described without a type."""
    choices = schema.get("anyOf") or schema.get("oneOf")
    if choices is None:
        return schema
    rest = {key: value for key, value in schema.items() if key not in ("anyOf", "oneOf")}
    real = [choice for choice in choices if choice.get("type") != "null"]
    if len(real) == 1:
        return {**real[0], **rest}
    return rest


def _swagger(schema: dict[str, Any], nested: dict[str, Any]) -> dict[str, Any]:
    """One JSON Schema (2020-12, as pydantic writes it) rewritten into Swagger 2.0's subset."""
    schema = _collapse(schema)
    if "$ref" in schema:
        return {"$ref": schema["$ref"]}
    if "const" in schema:
        schema = {**schema, "enum": [schema["const"]]}
        schema.pop("const")
    converted: dict[str, Any] = {key: schema[key] for key in _KEEP if key in schema}
    if converted.get("default") is None:
        converted.pop("default", None)
    if "enum" in converted:
        converted["enum"] = [value for value in converted["enum"] if value is not None]
    if "properties" in schema:
        required = set(schema.get("required", ()))
        converted["properties"] = {
            name: _property(name, value, nested, name in required)
            for name, value in schema["properties"].items()
        }
        converted.setdefault("type", "object")
        if schema.get("required"):
            converted["required"] = list(schema["required"])
    if "items" in schema:
        converted["items"] = _swagger(schema["items"], nested)
    additional = schema.get("additionalProperties")
    if isinstance(additional, dict):
        converted["additionalProperties"] = _swagger(additional, nested)
    elif additional is False and "properties" in schema:
        converted["additionalProperties"] = False
    return converted


def _property(name: str, raw: dict[str, Any], nested: dict[str, Any], required: bool) -> dict[str, Any]:
    """One property as a flow shows it: its title, description and visibility, a nested object in place.

    One that is always sent and may be null says so the Power Platform way, ``x-nullable``.
    """
    collapsed = _collapse(raw)
    ref = collapsed.get("$ref")
    if isinstance(ref, str):  # spelled out here: the designer shows neither allOf nor a $ref's siblings
        converted = _swagger(nested[ref.rsplit("/", 1)[-1]], nested)
    else:
        converted = _swagger(collapsed, nested)
    description = collapsed.get("description")
    if description:
        converted["description"] = description
    if required and any(
        choice.get("type") == "null" for choice in raw.get("anyOf") or raw.get("oneOf") or ()
    ):
        converted["x-nullable"] = True
    return {
        "x-ms-summary": collapsed.get("title") or _title(name),
        "x-ms-visibility": collapsed.get("x-ms-visibility", "important"),
        **converted,
    }


def _title(name: str) -> str:
    """``lagSeconds`` is "Lag Seconds": Microsoft asks for title case."""
    return " ".join(word.capitalize() for word in re.sub(r"(?<!^)(?=[A-Z])", " ", name).split())


def _referenced(definitions: dict[str, Any], paths: dict[str, Any]) -> dict[str, Any]:
    """The definitions something still refers to: nested objects spelled out in place need none."""
    wanted: set[str] = set()
    pending = list(_references(paths))
    while pending:
        name = pending.pop()
        if name not in wanted:
            wanted.add(name)
            pending += _references(definitions[name])
    return {name: definitions[name] for name in sorted(wanted)}


def _references(value: object) -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "$ref" and isinstance(item, str):
                yield item.rsplit("/", 1)[-1]
            else:
                yield from _references(item)
    elif isinstance(value, list):
        for item in value:
            yield from _references(item)
