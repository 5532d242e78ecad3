"""``GET /v1/pipeline``'s filters and answer: the weighted Salesforce pipeline as TP_STAGE holds it."""

from __future__ import annotations

from pydantic import Field

from shared.api.models import PERIOD_PATTERN, ApiInput, ApiModel


class PipelineQuery(ApiInput):
    stage: str | None = Field(
        None,
        max_length=40,
        title="Stage",
        description="Only this Salesforce stage (StageName), e.g. Prospecting.",
    )
    region: str | None = Field(
        None, max_length=80, title="Region", description="Only this region (the Opportunity's Region__c)."
    )
    month: str | None = Field(
        None,
        pattern=PERIOD_PATTERN,
        title="Opening Month",
        description="Only opportunities expected to open in this month, as yyyy-MM.",
    )


class PipelineGroupView(ApiModel):
    stage: str = Field(title="Stage", description="The Salesforce stage (StageName).")
    region: str | None = Field(
        title="Region", description="The region; empty when the opportunities name none."
    )
    opening_month: str | None = Field(
        title="Opening Month", description="The expected opening month (yyyy-MM); empty when none is set."
    )
    opportunities: int = Field(
        title="Opportunities", description="How many live opportunities the group holds."
    )
    amount: float = Field(title="Amount", description="The opportunities' amount, summed (USD).")
    weighted_amount: float = Field(
        title="Weighted Amount", description="Each opportunity's amount x probability / 100, summed (USD)."
    )


class PipelineReport(ApiModel):
    """The weighted pipeline by stage, region and expected opening month."""

    value: list[PipelineGroupView] = Field(title="Groups", description="One row per stage, region and month.")
    weighted_amount: float = Field(
        title="Total Weighted Amount", description="The weighted amount of the rows returned, summed (USD)."
    )
