"""``/v1/sites/{site}/variance``, ``/v1/districts/{district}/variance`` and ``POST /v1/forecast/snapshots``.

Variance answers carry an ``ETag`` (a hash of the body, as the EDW reads do)
and answer 304 to an ``If-None-Match`` that matches, so a flow polling a
site's variance skips the body until Dataverse changed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from decimal import Decimal

import orjson

from shared.api.answers import ok
from shared.api.calls import ApiServices, Call
from shared.api.forecast_models import ForecastSnapshotView, VarianceLineView, VarianceReport
from shared.api.http import ApiResponse
from shared.api.problems import ProblemError
from shared.forecast.desk import EdwNotConfiguredError, ForecastDesk
from shared.forecast.variance import VarianceLine


def get_site_variance(services: ApiServices, call: Call) -> ApiResponse:
    return _variance(services, call, [call.path.site])


def get_district_variance(services: ApiServices, call: Call) -> ApiResponse:
    sites = _desk(services).district_sites(call.path.district)
    if not sites:
        raise ProblemError(
            404, "district-not-found", f"No bs_mastercustomersite is in district {call.path.district!r}."
        )
    return _variance(services, call, sites)


def calculate_forecast(services: ApiServices, call: Call) -> ApiResponse:
    desk = _desk(services)
    start = call.body
    sites = sorted(set(start.sites)) if start.sites is not None else desk.district_sites(start.district)
    if not sites:
        raise ProblemError(
            404, "district-not-found", f"No bs_mastercustomersite is in district {start.district!r}."
        )
    try:
        calculation = desk.calculate(sites, start.year)
    except EdwNotConfiguredError as missing:
        raise ProblemError(
            503, "edw-not-configured", f"The forecast is written to TP_STAGE: {missing}."
        ) from None
    view = ForecastSnapshotView(
        snapshot_id=calculation.snapshot.id,
        calculated_at=calculation.snapshot.calculated_at,
        year=start.year,
        sites=sites,
        lines=calculation.written.lines,
        written=calculation.written.written,
    )
    return ok(view, 201)


def _desk(services: ApiServices) -> ForecastDesk:
    if services.forecast is None:
        raise ProblemError(
            503, "forecast-not-configured", "The forecast needs Dataverse; it is not configured here."
        )
    return services.forecast


def _variance(services: ApiServices, call: Call, sites: Sequence[str]) -> ApiResponse:
    year = call.query.year
    lines = _desk(services).variance(sites, year).lines
    report = VarianceReport(year=year, value=[_view(line) for line in lines])
    body = orjson.dumps(report.model_dump(mode="json", exclude_none=True))
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    headers = {"ETag": etag, "Cache-Control": "private, no-cache"}
    if _matches(call.request.header("if-none-match"), etag):
        return ApiResponse(304, b"", headers)
    return ApiResponse(200, body, headers)


def _view(line: VarianceLine) -> VarianceLineView:
    return VarianceLineView(
        site=line.site,
        period=line.period,
        line=line.line,
        budget=_money(line.budget),
        actual=None if line.actual is None else _money(line.actual),
        actual_source=str(line.actual_source),
        actual_days=line.actual_days,
        forecast=_money(line.forecast),
        forecast_rule=line.forecast_rule,
        variance_amount=_money(line.variance),
        variance_percent=None if line.variance_percent is None else float(line.variance_percent),
    )


def _money(amount: Decimal) -> float:
    return float(amount) + 0.0


def _matches(if_none_match: str | None, etag: str) -> bool:
    """RFC 9110 weak comparison, as the EDW reads compare: ``*`` or any listed tag, ``W/`` or not."""
    if if_none_match is None:
        return False
    tags = [tag.strip().removeprefix("W/") for tag in if_none_match.split(",")]
    return "*" in tags or etag in tags
