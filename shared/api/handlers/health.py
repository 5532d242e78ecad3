"""Answers for probes and makers: liveness, readiness with the circuit breakers, the API's description."""

from __future__ import annotations

from shared.api import models
from shared.api.answers import ok
from shared.api.calls import ApiServices, Call
from shared.api.http import ApiResponse, json_response


def get_health(services: ApiServices, call: Call) -> ApiResponse:
    """Liveness: this worker answers. It calls no dependency, so a storage or Service Bus outage does not
    make a platform probe recycle healthy instances; readiness says which dependency is down."""
    return ok(models.Liveness(status="ok"))


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
