"""``GET /api/health``: anonymous, so Azure's health probe and the admins' dashboards can call it."""

from __future__ import annotations

import azure.functions as func
import orjson

from shared.composition import hub
from shared.health import check_dependencies

HEALTH_DEADLINE_SECONDS = 5.0

blueprint = func.Blueprint()


@blueprint.route(route="health", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
def health(req: func.HttpRequest) -> func.HttpResponse:
    """200 when every dependency answers, 503 naming the ones that do not."""
    report = check_dependencies(hub().health_checks(), HEALTH_DEADLINE_SECONDS)
    return func.HttpResponse(
        orjson.dumps(report.to_json()),
        status_code=200 if report.ok else 503,
        mimetype="application/json",
    )
