"""``/api/v1``: the HTTP triggers Power Platform calls; each hands its request to ``shared.api``.

Function keys guard every route but the health checks and the OpenAPI
document; discarding a dead letter takes the admin (master) key.
"""

from __future__ import annotations

import azure.functions as func

from shared.api.http import ApiRequest, ApiResponse
from shared.api.wiring import hub_api

blueprint = func.Blueprint()
_FUNCTION, _ADMIN, _ANONYMOUS = func.AuthLevel.FUNCTION, func.AuthLevel.ADMIN, func.AuthLevel.ANONYMOUS


def serve(operation_id: str, req: func.HttpRequest) -> func.HttpResponse:
    request = ApiRequest(
        method=req.method,
        path=_path(req.url),
        headers={name.lower(): value for name, value in req.headers.items()},
        query=dict(req.params),
        route=dict(req.route_params),
        body=req.get_body() or b"",
    )
    return _response(hub_api().handle(operation_id, request))


def _path(url: str) -> str:
    after_scheme = url.split("://", 1)[-1]
    return "/" + after_scheme.split("/", 1)[-1].split("?", 1)[0] if "/" in after_scheme else "/"


def _response(answer: ApiResponse) -> func.HttpResponse:
    return func.HttpResponse(
        answer.body if answer.status != 304 else None,
        status_code=answer.status,
        headers={**answer.headers, "Content-Type": answer.content_type}
        if answer.body
        else dict(answer.headers),
    )


@blueprint.route(route="v1/syncs", methods=["GET"], auth_level=_FUNCTION)
def list_syncs(req: func.HttpRequest) -> func.HttpResponse:
    return serve("ListSyncs", req)


@blueprint.route(route="v1/syncs/{stream}", methods=["POST"], auth_level=_FUNCTION)
def start_sync(req: func.HttpRequest) -> func.HttpResponse:
    return serve("StartSync", req)


@blueprint.route(route="v1/runs", methods=["GET"], auth_level=_FUNCTION)
def list_runs(req: func.HttpRequest) -> func.HttpResponse:
    return serve("ListRuns", req)


@blueprint.route(route="v1/runs/{id}", methods=["GET"], auth_level=_FUNCTION)
def get_run(req: func.HttpRequest) -> func.HttpResponse:
    return serve("GetRun", req)


@blueprint.route(route="v1/runs/{id}/replay", methods=["POST"], auth_level=_FUNCTION)
def replay_run(req: func.HttpRequest) -> func.HttpResponse:
    return serve("ReplayRun", req)


@blueprint.route(route="v1/deadletters/{queue}", methods=["GET"], auth_level=_FUNCTION)
def list_dead_letters(req: func.HttpRequest) -> func.HttpResponse:
    return serve("ListDeadLetters", req)


@blueprint.route(route="v1/deadletters/{queue}/{messageId}/resubmit", methods=["POST"], auth_level=_FUNCTION)
def resubmit_dead_letter(req: func.HttpRequest) -> func.HttpResponse:
    return serve("ResubmitDeadLetter", req)


@blueprint.route(route="v1/deadletters/{queue}/{messageId}", methods=["DELETE"], auth_level=_ADMIN)
def discard_dead_letter(req: func.HttpRequest) -> func.HttpResponse:
    return serve("DiscardDeadLetter", req)


@blueprint.route(route="v1/edw/{name}", methods=["GET"], auth_level=_FUNCTION)
def live_read(req: func.HttpRequest) -> func.HttpResponse:
    return serve("LiveRead", req)


@blueprint.route(route="health/ready", methods=["GET"], auth_level=_ANONYMOUS)
def readiness(req: func.HttpRequest) -> func.HttpResponse:
    return serve("GetReadiness", req)


@blueprint.route(route="v1/openapi.json", methods=["GET"], auth_level=_ANONYMOUS)
def openapi(req: func.HttpRequest) -> func.HttpResponse:
    return serve("GetOpenApi", req)
