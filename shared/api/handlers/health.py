"""Anonymous answers for probes and makers: liveness, readiness with the circuit breakers, the API's description."""

from __future__ import annotations

from shared.api import models
from shared.api.answers import ok
from shared.api.calls import ApiServices, Call
from shared.api.http import ApiResponse, json_response


def get_health(services: ApiServices, call: Call) -> ApiResponse:
    """200 when every dependency answers, 503 naming the ones that do not (Azure's health probe calls it)."""
    report = services.health()
    return json_response(200 if report.ok else 503, report.to_json())


def get_readiness(services: ApiServices, call: Call) -> ApiResponse:
    report, circuits = services.readiness()
    raw = report.to_json()
    ready = report.ok and all(state != "open" for state in circuits.values())
    view = models.Readiness(
        status="ok" if ready else "down", dependencies=raw["dependencies"], circuits=circuits
    )
    return ok(view, 200 if ready else 503)


def get_openapi(services: ApiServices, call: Call) -> ApiResponse:
    """The document names the host and scheme it was fetched from, so an import from its URL needs no edit."""
    return json_response(200, services.description(call.request.host, call.request.scheme))
