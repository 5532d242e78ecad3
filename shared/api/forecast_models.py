"""The forecast operations' inputs and outputs: budget variance by site or district, and forecast calculations.

Every line is flat (one row per site, month and line), so a flow's "Apply to
each" or a Power BI query reads it without expanding anything. A figure that
does not exist (the actual of a month not begun, the percentage of a zero
budget) is left out, as every answer of the hub leaves out what it does not know.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import Field, model_validator

from shared.api.models import ADVANCED, ApiInput, ApiModel
from shared.query_values import QueryInt

SITE_PATTERN = r"^\d{4}$"


class SitePath(ApiInput):
    site: str = Field(
        pattern=SITE_PATTERN, title="Site", description="The four-digit site number, e.g. 0170."
    )


class DistrictPath(ApiInput):
    district: str = Field(
        min_length=1,
        max_length=100,
        title="District",
        description="The district as bs_mastercustomersite.bs_district names it.",
    )


class VarianceQuery(ApiInput):
    year: QueryInt = Field(ge=2000, le=2099, title="Year", description="The calendar (fiscal) year.")


class ForecastCalculationStart(ApiInput):
    """Which sites to forecast for a year: a district, or a list of sites; exactly one."""

    year: int = Field(ge=2000, le=2099, strict=True, title="Year", description="The calendar (fiscal) year.")
    district: str | None = Field(
        None,
        min_length=1,
        max_length=100,
        title="District",
        description="Every site bs_mastercustomersite places in this district.",
    )
    sites: list[str] | None = Field(
        None,
        min_length=1,
        max_length=100,
        title="Sites",
        description="Four-digit site numbers, at most 100.",
    )

    @model_validator(mode="after")
    def _exactly_one(self) -> ForecastCalculationStart:
        if (self.district is None) == (self.sites is None):
            raise ValueError("give exactly one of district and sites")
        if self.sites is not None and not all(len(site) == 4 and site.isdigit() for site in self.sites):
            raise ValueError("each site is a four-digit site number")
        return self


class VarianceLineView(ApiModel):
    """One site's month and line: budget, actual, forecast, their variance and the rules behind them."""

    site: str = Field(description="The four-digit site number.")
    period: str = Field(description="The month, as yyyy-MM.")
    line: str = Field(
        description="The summary category (EXTERNAL REVENUE, INTERNAL REVENUE, PAYROLL, CLAIMS, PARKING RENTS, "
        "OTHER EXPENSE, PTEB, INSURANCE) or FLC (internal revenue less the costs)."
    )
    budget: float = Field(description="The month's budget for the line (bs_budgetmonthly; FLC from it).")
    actual: float | None = Field(
        None,
        description="The closed GL actual, or the actuals to date of an open month; absent before any.",
    )
    actual_source: str = Field(
        description="closed GL actual, actual to date, or no actual yet.", json_schema_extra=ADVANCED
    )
    actual_days: int = Field(
        description="Days of the month the actual covers (every day once closed).", json_schema_extra=ADVANCED
    )
    forecast: float = Field(description="The line's forecast by Towne Park's trending rules.")
    forecast_rule: str = Field(
        description="The rule that produced the forecast: closed actual, actual then forecast, as-of actual, "
        "greater of actual and forecast, PTEB share of forecast payroll, insurance share of forecast "
        "payroll, budget, or FLC."
    )
    variance_amount: float = Field(description="Forecast minus budget.")
    variance_percent: float | None = Field(
        None,
        title="Variance %",
        description="The variance as a percentage of the budget; absent for a 0 budget.",
    )


class VarianceReport(ApiModel):
    year: int = Field(description="The year the lines cover.")
    value: list[VarianceLineView] = Field(
        title="Lines",
        description="Every site's twelve months, nine lines each, in site, month and line order.",
    )


class ForecastSnapshotView(ApiModel):
    """A calculated forecast as written to TP_STAGE (vwHUB_FORECAST_CONSOLIDATED shows the latest)."""

    snapshot_id: str = Field(
        title="Snapshot ID", description="The snapshot's id; ids sort by calculation time."
    )
    calculated_at: datetime = Field(
        description="When the forecast was calculated (UTC): the view's DW_LOADED_DTTM."
    )
    year: int = Field(description="The year forecast.")
    sites: list[str] = Field(description="The sites forecast.")
    lines: int = Field(description="Lines written: sites x 12 months x 8 summary categories.")
    written: bool = Field(
        description="false when this snapshot was complete already and nothing was written again.",
        json_schema_extra=ADVANCED,
    )
