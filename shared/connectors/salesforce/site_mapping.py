"""An operator's explicit mapping of a Salesforce Opportunity to an existing customer site.

The site number a salesperson types on the Opportunity (``Site_Number__c``)
may be missing or wrong for a location the EDW already knows. An operator then
names the right site through the API; the mapping is kept on the synced
Opportunity (``bs_mappedsitenumber``, Dataverse's own column: no Salesforce
sync writes it) and applied at once: the site is linked to the Opportunity,
and a proforma site the sale made under another number is retired, so there
are never two sites for one location. The proforma-sites stream honours the
mapping on every later read (``proforma.py``), and the openings stream follows
the site number, so it needs nothing more.

A proforma site a billing statement already points at is not retired: billing
has started there and a person merges the two (the call answers 409).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shared.connectors.dataverse.client import DataverseClient
from shared.connectors.dataverse.keys import odata_literal
from shared.connectors.salesforce.objects import SALESFORCE_ID

OPPORTUNITIES = "bs_salesforceopportunities"
MAPPED_SITE = "bs_mappedsitenumber"
_SITES = "bs_customersites"
_SITE_COLUMNS = ("bs_customersiteid", "bs_sitenumber", "bs_proformastatus", "bs_salesforceopportunityid")


class MappingRefusedError(Exception):
    """The mapping cannot be made as asked; ``status`` and ``code`` say why to the API caller."""

    def __init__(self, status: int, code: str, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail


@dataclass(frozen=True)
class SiteMapped:
    opportunity_id: str
    site_number: str
    retired_site: str | None  # the proforma site number the mapping retired, if any


class SiteMappings:
    def __init__(self, dataverse: DataverseClient) -> None:
        self._dataverse = dataverse

    def map(self, opportunity_id: str, number: str) -> SiteMapped:
        opportunity = f"{SALESFORCE_ID} eq {odata_literal(opportunity_id)}"
        if not list(self._dataverse.query(OPPORTUNITIES, (SALESFORCE_ID,), opportunity)):
            raise MappingRefusedError(
                404,
                "opportunity-not-synced",
                f"No synced Opportunity {opportunity_id}: run salesforce_pipeline.",
            )
        site = self._sites(f"bs_sitenumber eq {odata_literal(number)}")
        if not site or site[0].get("bs_proformastatus") == "retired":
            raise MappingRefusedError(404, "site-not-found", f"No open or proforma customer site {number}.")
        made = self._sites(
            f"bs_salesforceopportunityid eq {odata_literal(opportunity_id)} and bs_proformastatus eq 'proforma' "
            f"and bs_sitenumber ne {odata_literal(number)}"
        )
        retired = str(made[0]["bs_sitenumber"]) if made else None
        if made and self._billed(str(made[0]["bs_customersiteid"])):
            raise MappingRefusedError(
                409,
                "proforma-site-billed",
                f"The sale's proforma site {retired} is billed already: merge it with {number} by hand.",
            )
        key = {SALESFORCE_ID: opportunity_id}
        self._dataverse.upsert(OPPORTUNITIES, key, {MAPPED_SITE: number}, if_match="*")
        self._dataverse.upsert(
            _SITES, {"bs_sitenumber": number}, {"bs_salesforceopportunityid": opportunity_id}, if_match="*"
        )
        if retired is not None:
            self._dataverse.upsert(
                _SITES, {"bs_sitenumber": retired}, {"bs_proformastatus": "retired"}, if_match="*"
            )
        return SiteMapped(opportunity_id, number, retired)

    def mapped(self, opportunity_ids: list[str]) -> dict[str, str]:
        """The operator's site number of each of these Opportunities that has one."""
        found: dict[str, str] = {}
        for start in range(0, len(opportunity_ids), 50):
            chunk = opportunity_ids[start : start + 50]
            ids = " or ".join(f"{SALESFORCE_ID} eq {odata_literal(i)}" for i in chunk)
            for row in self._dataverse.query(
                OPPORTUNITIES, (SALESFORCE_ID, MAPPED_SITE), f"({ids}) and {MAPPED_SITE} ne null"
            ):
                found[row[SALESFORCE_ID]] = row[MAPPED_SITE]
        return found

    def _sites(self, condition: str) -> list[dict[str, Any]]:
        return list(self._dataverse.query(_SITES, _SITE_COLUMNS, condition))

    def _billed(self, site_id: str) -> bool:
        rows = self._dataverse.query(
            "bs_billingstatements", ("_bs_customersitefk_value",), f"_bs_customersitefk_value eq {site_id}"
        )
        return any(True for _ in rows)
