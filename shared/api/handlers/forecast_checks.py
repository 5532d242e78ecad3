"""``/v1/statements/{id}/forecast-check``: a statement against the forecast, and optionally its new status."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from shared.api import models
from shared.api.answers import ok
from shared.api.calls import ApiServices, Call
from shared.api.http import ApiResponse
from shared.api.problems import ProblemError
from shared.errors import ConflictError

if TYPE_CHECKING:
    from shared.workflows.forecast_check.check import StatementForecastCheck


def check_statement_forecast(services: ApiServices, call: Call) -> ApiResponse:
    from shared.workflows.forecast_check.check import ForecastCheckError

    apply: bool = call.query.apply
    try:
        checked = _checker(services).check(
            uuid.UUID(call.path.id), apply=apply, if_match=call.request.header("if-match")
        )
    except ForecastCheckError as error:
        raise ProblemError(error.status, error.kind, error.detail) from None
    except ConflictError:
        raise ProblemError(
            412,
            "statement-changed",
            f"Statement {call.path.id} changed since the ETag given (or since this check read it); its status "
            "is unchanged. Check again to decide on what it holds now.",
        ) from None
    view = models.ForecastCheckResult(
        statement_id=checked.statement_id,
        site_number=checked.site,
        period=checked.period,
        statement_amount=checked.statement_amount,
        forecast_amount=checked.forecast_amount,
        forecast_source=checked.forecast_source,
        deviation_amount=checked.off_by.amount,
        deviation_percent=checked.off_by.shown_percent,
        threshold_percent=checked.thresholds.percent,
        threshold_amount=checked.thresholds.amount,
        decision=checked.routing.status.name,
        decision_value=checked.routing.status.value,
        reason=checked.routing.reason,
        applied=checked.applied,
        previous_status=checked.previous_status.name if checked.previous_status else None,
        etag=checked.etag,
    )
    return ok(view).with_headers(ETag=checked.etag)


def _checker(services: ApiServices) -> StatementForecastCheck:
    if services.forecast_check is None:
        raise ProblemError(
            503,
            "edw-not-configured",
            "The forecast check reads the EDW's forecast: an admin sets EDW_SQL_URL to turn it on.",
        )
    return services.forecast_check
