"""The OpenAPI 2.0 (Swagger) document Power Platform imports as a custom connector.

Built from the operation table and the same pydantic models the handlers
validate with. Power Platform custom connectors import Swagger 2.0 only, so
pydantic's JSON Schema is rewritten into the subset 2.0 allows: ``$defs``
become ``definitions``, an optional value is an optional property (the API
leaves it out rather than sending null), and a value that may be of several
types is described without a type.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel

from shared.api.live_reads import LiveRead
from shared.api.operations import Operation, Reply, documented_operations
from shared.api.problems import Problem

API_VERSION = "1.0"
_KEEP = (
    "type", "format", "enum", "pattern", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum",
    "minLength", "maxLength", "minItems", "maxItems", "uniqueItems", "multipleOf", "default", "example",
    "description",
)  # fmt: skip
_PARAMETER_KEEP = tuple(key for key in _KEEP if key != "example")


def openapi_document(reads: Sequence[LiveRead], host: str | None = None) -> dict[str, Any]:
    """The whole document; ``host`` is left out for the connector file, where the maker sets it."""
    definitions: dict[str, Any] = {}
    _schema(Problem, "serialization", definitions)
    paths: dict[str, Any] = {}
    for operation in documented_operations(reads):
        paths.setdefault("/" + operation.route, {})[operation.method.lower()] = _operation(
            operation, definitions
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
        "schemes": ["https"],
        "consumes": ["application/json"],
        "produces": ["application/json", "application/problem+json"],
        "securityDefinitions": {
            "functionKey": {"type": "apiKey", "in": "header", "name": "x-functions-key"},
        },
        "security": [{"functionKey": []}],
        "paths": paths,
        "definitions": dict(sorted(definitions.items())),
    }
    if host:
        document["host"] = host
    return document


def _operation(operation: Operation, definitions: dict[str, Any]) -> dict[str, Any]:
    parameters: list[dict[str, Any]] = []
    if operation.path is not None:
        parameters += _parameters(operation.path, "path", definitions)
    if operation.query is not None:
        parameters += _parameters(operation.query, "query", definitions)
    if operation.body is not None:
        parameters.append(
            {
                "name": "body",
                "in": "body",
                "required": False,
                "description": operation.body.__doc__ or "The request.",
                "x-ms-summary": "Request",
                "schema": _schema(operation.body, "validation", definitions),
            }
        )
    answer: dict[str, Any] = {
        "operationId": operation.operation_id,
        "summary": operation.summary,
        "x-ms-summary": operation.summary,
        "description": operation.description,
        "tags": list(operation.tags),
        "parameters": parameters,
        "responses": _responses(operation, definitions),
        **operation.extensions,
    }
    if operation.auth_level == "anonymous":
        answer["security"] = []
    return answer


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
    for status, description in statuses.items():
        responses.setdefault(str(status), {"description": description, "schema": problem})
    if "401" in responses:
        # The Functions host refuses a missing key itself, with an empty body; only token refusals are problems.
        responses["401"] = {"description": "No valid function key (empty body) or bearer token (a problem)."}
    for reply in operation.replies:
        if reply.model is None and not reply.raw and reply.status >= 400:
            responses[str(reply.status)]["schema"] = problem
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


def _parameters(model: type[BaseModel], where: str, definitions: dict[str, Any]) -> list[dict[str, Any]]:
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
        parameters.append(parameter)
    return parameters


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
    for name, nested in schema.pop("$defs", {}).items():
        definitions[name] = _swagger(nested)
    definitions[model.__name__] = _swagger(schema)
    return {"$ref": f"#/definitions/{model.__name__}"}


def _collapse(schema: dict[str, Any]) -> dict[str, Any]:
    """``anyOf: [X, null]`` is X; any other choice of types is described without a type."""
    choices = schema.get("anyOf") or schema.get("oneOf")
    if choices is None:
        return schema
    rest = {key: value for key, value in schema.items() if key not in ("anyOf", "oneOf")}
    real = [choice for choice in choices if choice.get("type") != "null"]
    if len(real) == 1:
        merged = {**real[0], **rest}
        if "$ref" in merged and len(merged) > 1:
            ref = merged.pop("$ref")
            return {
                "allOf": [{"$ref": ref}],
                **{k: v for k, v in merged.items() if k in ("description", "title")},
            }
        return merged
    return rest


def _swagger(schema: dict[str, Any]) -> dict[str, Any]:
    """One JSON Schema (2020-12, as pydantic writes it) rewritten into Swagger 2.0's subset."""
    schema = _collapse(schema)
    if "$ref" in schema:
        return {"$ref": schema["$ref"]}
    if "allOf" in schema:
        return {key: value for key, value in schema.items() if key in ("allOf", "description")}
    if "const" in schema:
        schema = {**schema, "enum": [schema["const"]]}
        schema.pop("const")
    converted: dict[str, Any] = {key: schema[key] for key in _KEEP if key in schema}
    if converted.get("default") is None:
        converted.pop("default", None)
    if "enum" in converted:
        converted["enum"] = [value for value in converted["enum"] if value is not None]
    if "properties" in schema:
        converted["properties"] = {name: _swagger(value) for name, value in schema["properties"].items()}
        converted.setdefault("type", "object")
        if schema.get("required"):
            converted["required"] = list(schema["required"])
    if "items" in schema:
        converted["items"] = _swagger(schema["items"])
    additional = schema.get("additionalProperties")
    if isinstance(additional, dict):
        converted["additionalProperties"] = _swagger(additional)
    elif additional is False and "properties" in schema:
        converted["additionalProperties"] = False
    return converted
