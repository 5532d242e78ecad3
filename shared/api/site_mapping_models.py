"""``PUT /v1/salesforce/opportunities/{id}/site``'s inputs and answer: an operator's opportunity-to-site mapping."""

from __future__ import annotations

from pydantic import Field

from shared.api.models import ApiInput, ApiModel

SALESFORCE_ID_PATTERN = r"^[A-Za-z0-9]{15}([A-Za-z0-9]{3})?$"
SITE_PATTERN = r"^\d{1,4}$"


class OpportunityPath(ApiInput):
    id: str = Field(
        pattern=SALESFORCE_ID_PATTERN, title="Opportunity ID", description="The Salesforce Opportunity's id."
    )


class SiteMapping(ApiInput):
    site_number: str = Field(
        pattern=SITE_PATTERN,
        title="Site Number",
        description="The existing customer site the Opportunity sold (bs_customersite.bs_sitenumber), e.g. 0170.",
    )


class SiteMappingView(ApiModel):
    opportunity_id: str = Field(title="Opportunity ID", description="The Salesforce Opportunity's id.")
    site_number: str = Field(title="Site Number", description="The site the Opportunity is now linked to.")
    retired_site: str | None = Field(
        None,
        title="Retired Site",
        description="The proforma site the sale had made under another number, now retired; empty if none.",
    )
