"""``/v1/edw/{name}``: one live read of the EDW, its parameters validated by the read itself."""

from __future__ import annotations

from shared.api.calls import ApiServices, Call
from shared.api.http import ApiResponse


def live_read(services: ApiServices, call: Call) -> ApiResponse:
    request = call.request
    return services.live_reads.answer(call.path.name, request.app_query, request.header("if-none-match"))
