"""``/v1/salesforce/opportunities/{id}/site``: an operator maps a sale to the site it is, never two sites for one."""

from __future__ import annotations

from typing import TYPE_CHECKING

from shared.api import site_mapping_models as views
from shared.api.answers import ok
from shared.api.calls import ApiServices, Call
from shared.api.http import ApiResponse
from shared.api.problems import ProblemError
from shared.sites import site_number

if TYPE_CHECKING:
    from shared.connectors.salesforce.site_mapping import SiteMappings


def map_opportunity_site(services: ApiServices, call: Call) -> ApiResponse:
    # Here, not at the top: the operations table names this handler, and indexing the app loads no connector.
    from shared.connectors.salesforce.site_mapping import MappingRefusedError

    path: views.OpportunityPath = call.path
    body: views.SiteMapping = call.body
    number = site_number(body.site_number) or body.site_number
    try:
        mapped = _mappings(services).map(path.id, number)
    except MappingRefusedError as refused:
        raise ProblemError(refused.status, refused.code, refused.detail) from None
    return ok(
        views.SiteMappingView(
            opportunity_id=mapped.opportunity_id,
            site_number=mapped.site_number,
            retired_site=mapped.retired_site,
        )
    )


def _mappings(services: ApiServices) -> SiteMappings:
    if services.site_mappings is None:
        raise ProblemError(
            503,
            "salesforce-not-configured",
            "Salesforce is off in this environment: an admin sets SALESFORCE_URL.",
        )
    return services.site_mappings
