"""``/v1/syncs``: every stream with its schedule and progress, and starting a sync of one."""

from __future__ import annotations

from shared.api.answers import ok, run_accepted
from shared.api.calls import ApiServices, Call
from shared.api.http import ApiResponse


def list_syncs(services: ApiServices, call: Call) -> ApiResponse:
    return ok(services.syncs.list())


def start_sync(services: ApiServices, call: Call) -> ApiResponse:
    correlation_id = call.request.header("x-correlation-id")
    return run_accepted(services.syncs.start(call.path.stream, call.body, call.caller.who, correlation_id))
