"""``/api``: one HTTP trigger per served operation of ``shared.api.operations``, each handing its request on.

The triggers are made from the route table (``shared/api/routes.py``), which a
test holds to the operations table, so indexing the app imports none of the
API's models or handlers: a trigger's first call loads the operations. Each
is named after its operation (``StartSync`` is ``start_sync``):
the Python worker indexes a function by its ``__name__``, which must be
unique in the app. Function keys guard every route but the health checks and
the OpenAPI document; discarding a dead letter takes the admin (master) key.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import TYPE_CHECKING

import azure.functions as func

from functions.app_hub import hub_api
from functions.invocation import invocation
from shared.api.http import ApiRequest, ApiResponse
from shared.api.routes import SERVED_ROUTES, AuthLevel, Route

if TYPE_CHECKING:
    from shared.api.operations import Operation

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


@functools.cache
def served_operation(operation_id: str) -> Operation:
    """The operation a trigger serves, from the operations table imported on the first call of any trigger."""
    from shared.api.operations import SERVED_OPERATIONS

    return next(operation for operation in SERVED_OPERATIONS if operation.operation_id == operation_id)


def function_name(operation: Route | Operation) -> str:
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


def _trigger(route: Route) -> Callable[[func.HttpRequest, func.Context], func.HttpResponse]:
    def trigger(req: func.HttpRequest, context: func.Context) -> func.HttpResponse:
        with invocation(context):
            return serve(served_operation(route.operation_id), req)

    trigger.__name__ = trigger.__qualname__ = function_name(route)
    trigger.__doc__ = f"{route.method} /api/{route.route}: serves {route.operation_id}."
    return trigger


for _route in SERVED_ROUTES:
    blueprint.route(route=_route.route, methods=[_route.method], auth_level=_AUTH_LEVELS[_route.auth_level])(
        _trigger(_route)
    )
