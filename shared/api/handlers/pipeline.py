"""``/v1/pipeline``: the weighted Salesforce pipeline Power BI reads, for flows and apps."""

from __future__ import annotations

from typing import TYPE_CHECKING

from shared.api import pipeline_models as views
from shared.api.answers import ok
from shared.api.calls import ApiServices, Call
from shared.api.http import ApiResponse
from shared.api.problems import ProblemError

if TYPE_CHECKING:
    from shared.workflows.pipeline_reporting.report import PipelineReporting


def get_pipeline(services: ApiServices, call: Call) -> ApiResponse:
    query: views.PipelineQuery = call.query
    groups = _reporting(services).groups(query.stage, query.region, query.month)
    return ok(
        views.PipelineReport(
            value=[
                views.PipelineGroupView(
                    stage=group.stage,
                    region=group.region or None,
                    opening_month=group.opening_month or None,
                    opportunities=group.opportunities,
                    amount=float(group.amount),
                    weighted_amount=float(group.weighted_amount),
                )
                for group in groups
            ],
            weighted_amount=float(sum(group.weighted_amount for group in groups)),
        )
    )


def _reporting(services: ApiServices) -> PipelineReporting:
    if services.pipeline is None:
        raise ProblemError(
            503,
            "edw-not-configured",
            "The weighted pipeline is kept in the EDW's TP_STAGE, which is off here: an admin sets EDW_SQL_URL.",
        )
    return services.pipeline
