"""``/api``: one HTTP trigger per served operation of ``shared.api.operations``, each handing its request on.

The triggers are made from the operations table, so a route, its methods and
its key level are declared once, next to the operation's documentation and
handler. Each is named after its operation (``StartSync`` is ``start_sync``):
the Python worker indexes a function by its ``__name__``, which must be
unique in the app. Function keys guard every route but the health checks and
the OpenAPI document; discarding a dead letter takes the admin (master) key.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import azure.functions as func

from functions.app_hub import hub_api
from functions.invocation import invocation
from shared.api.http import ApiRequest, ApiResponse
from shared.api.operations import SERVED_OPERATIONS, AuthLevel, Operation

blueprint = func.Blueprint()
_AUTH_LEVELS: dict[AuthLevel, func.AuthLevel] = {
    "anonymous": func.AuthLevel.ANONYMOUS,
    "function": func.AuthLevel.FUNCTION,
    "admin": func.AuthLevel.ADMIN,
}
_WORD_START = re.compile(r"(?<!^)(?=[A-Z])")


def serve(operation: Operation, req: func.HttpRequest) -> func.HttpResponse:
    headers = {name.lower(): value for name, value in req.headers.items()}
    request = ApiRequest(
        method=req.method,
        path=_path(req.url),
        headers=headers,
        query=dict(req.params),
        route=dict(req.route_params),
        body=req.get_body() or b"",
        scheme=_scheme(req.url, headers),
    )
    return _response(hub_api().handle(operation, request))


def function_name(operation: Operation) -> str:
    """The trigger's name: the operation id in snake case (``ListDeadLetters`` is ``list_dead_letters``)."""
    return _WORD_START.sub("_", operation.operation_id).lower()


def _path(url: str) -> str:
    after_scheme = url.split("://", 1)[-1]
    return "/" + after_scheme.split("/", 1)[-1].split("?", 1)[0] if "/" in after_scheme else "/"


def _scheme(url: str, headers: dict[str, str]) -> str:
    """The scheme the caller used: Azure's front ends end TLS and say so in X-Forwarded-Proto."""
    forwarded = headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
    if forwarded in ("http", "https"):
        return forwarded
    return "http" if url.lower().startswith("http://") else "https"


def _response(answer: ApiResponse) -> func.HttpResponse:
    return func.HttpResponse(
        answer.body if answer.status != 304 else None,
        status_code=answer.status,
        headers={**answer.headers, "Content-Type": answer.content_type}
        if answer.body
        else dict(answer.headers),
    )


def _trigger(operation: Operation) -> Callable[[func.HttpRequest, func.Context], func.HttpResponse]:
    def trigger(req: func.HttpRequest, context: func.Context) -> func.HttpResponse:
        with invocation(context):
            return serve(operation, req)

    trigger.__name__ = trigger.__qualname__ = function_name(operation)
    trigger.__doc__ = f"{operation.method} /api/{operation.route}: {operation.summary}."
    return trigger


for _operation in SERVED_OPERATIONS:
    blueprint.route(
        route=_operation.route, methods=[_operation.method], auth_level=_AUTH_LEVELS[_operation.auth_level]
    )(_trigger(_operation))
