"""Sold sites become proforma customer sites, and a proforma site becomes the real one when it opens.

Today a site that is sold but not yet open exists only in the Proforma DB, so
the forecast sees it once Workday and the EDW do (DOMAIN.md §6). Here a Closed
Won Opportunity with a proposed site number becomes a ``bs_customersite`` keyed
by that number, ``bs_proformastatus`` 'proforma', with what the sale knows of
the site (the Proforma DB's fields: name, rooms, parking, expected opening,
contract type) and the Opportunity's id (``salesforce_proforma_sites``).

When the site appears in ``MASTER_NON_FINANCIAL``, ``proforma_site_openings``
writes its EDW fields onto the same row (same site number, so never two sites
for one location), status 'opened', the Salesforce link kept. It reads the
master rows with the master-sites sync's own reader, of the proforma sites only.

A proforma site whose Opportunity is lost, reopened or deleted is retired
(status 'retired') unless a billing statement already points at it: then billing
has started and a person decides. A site number that already belongs to a real
site (no status, or 'opened') is only linked to the Opportunity, never turned
back into a proforma. An operator's explicit mapping (``site_mapping.py``) wins
over the Opportunity's own site number.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import date
from typing import Any

from sqlalchemy import Engine

from shared.connectors.dataverse.client import DataverseClient
from shared.connectors.dataverse.keys import odata_literal
from shared.connectors.dataverse.sink import DataverseTarget
from shared.connectors.edw.master_sites import MasterSite, read_master_sites
from shared.connectors.salesforce.objects import OpportunityRow
from shared.connectors.salesforce.rest import SalesforceRest
from shared.connectors.salesforce.site_mapping import SiteMappings
from shared.connectors.salesforce.streams import soql_datetime
from shared.pipeline.stream import ReadWindow, Record, Row, Stream
from shared.sites import site_number

PROFORMA_STREAM = "salesforce_proforma_sites"
OPENINGS_STREAM = "proforma_site_openings"
SITES = DataverseTarget(entity_set="bs_customersites", alternate_key=("bs_sitenumber",))
PROFORMA, OPENED, RETIRED = "proforma", "opened", "retired"
_SITE_COLUMNS = ("bs_customersiteid", "bs_sitenumber", "bs_proformastatus", "bs_salesforceopportunityid")
_OR_CHUNK = 50  # site numbers per $filter, so a URL stays short


class SoldSite(OpportunityRow):
    """An Opportunity with a site number, and what Dataverse holds for that site number now."""

    site_status: str | None = None  # the site's bs_proformastatus; None with site_exists: a real site
    site_exists: bool = False
    proforma_of: str | None = None  # the Opportunity its proforma row came from
    billed: bool = False
    mapped_site: str | None = None  # the site number an operator mapped the Opportunity to (site_mapping.py)


def to_customer_site(sold: SoldSite) -> Record | None:
    number = sold.mapped_site or site_number(sold.Site_Number__c)
    if number is None:
        return None
    won = sold.IsWon and not sold.IsDeleted
    real = sold.site_exists and sold.site_status in (None, OPENED)
    if won and real:
        return {"bs_sitenumber": number, "bs_salesforceopportunityid": sold.Id}
    if won:
        return {
            "bs_sitenumber": number,
            "bs_sitename": sold.Property_Name__c or sold.Name,
            "bs_rooms": sold.Rooms__c,
            "bs_parking": sold.Parking_Spaces__c,
            "bs_startdate": _day(sold.Expected_Opening__c),
            "bs_proformacontracttype": sold.Contract_Type__c,
            "bs_proformastatus": PROFORMA,
            "bs_salesforceopportunityid": sold.Id,
        }
    if sold.site_status == PROFORMA and sold.proforma_of == sold.Id and not sold.billed:
        return {"bs_sitenumber": number, "bs_proformastatus": RETIRED}
    return None


def to_opened_site(site: MasterSite) -> Record:
    """The EDW's facts about the site, onto its proforma row (the same columns the flows fill)."""
    address = ", ".join(part for part in (site.street_address, site.city, site.state) if part)
    return {
        "bs_sitenumber": site.site,
        "bs_sitename": site.site_name,
        "bs_glstring": site.gl_string,
        "bs_address": f"{address} {site.zip or ''}".strip() or None,
        "bs_district": site.district,
        "bs_districtmanager": site.dm,
        "bs_startdate": _day(site.first_worked_date),
        "bs_svpregion": site.svp_region,
        "bs_legalentity": site.legal_entity,
        "bs_plcategory": site.pl_category,
        "bs_cogsegment": site.cog_segment,
        "bs_businesssegment": site.business_segment,
        "bs_proformastatus": OPENED,
    }


def _day(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


class CustomerSites:
    """What Dataverse holds of customer sites, read in small filtered queries."""

    def __init__(self, dataverse: DataverseClient) -> None:
        self._dataverse = dataverse

    def by_number(self, numbers: Iterable[str]) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        for chunk in _chunks(sorted(set(numbers))):
            condition = " or ".join(f"bs_sitenumber eq {odata_literal(n)}" for n in chunk)
            for row in self._dataverse.query(SITES.entity_set, _SITE_COLUMNS, condition):
                found[row["bs_sitenumber"]] = row
        return found

    def billed(self, site_ids: Iterable[str]) -> set[str]:
        """The sites a billing statement points at."""
        billed: set[str] = set()
        for chunk in _chunks(sorted(set(site_ids))):
            condition = " or ".join(f"_bs_customersitefk_value eq {site}" for site in chunk)
            rows = self._dataverse.query("bs_billingstatements", ("_bs_customersitefk_value",), condition)
            billed |= {row["_bs_customersitefk_value"] for row in rows}
        return billed

    def proforma_numbers(self) -> list[str]:
        rows = self._dataverse.query(
            SITES.entity_set, ("bs_sitenumber",), f"bs_proformastatus eq '{PROFORMA}'"
        )
        return sorted(row["bs_sitenumber"] for row in rows)


def _chunks(values: Sequence[str]) -> Iterator[Sequence[str]]:
    for start in range(0, len(values), _OR_CHUNK):
        yield values[start : start + _OR_CHUNK]


def _with_sites(page: Sequence[Row], sites: CustomerSites, mappings: SiteMappings) -> list[Row]:
    mapped = mappings.mapped([str(row["Id"]) for row in page])
    numbered = {row["Id"]: mapped.get(row["Id"]) or site_number(row.get("Site_Number__c")) for row in page}
    held = sites.by_number(n for n in numbered.values() if n is not None)
    billed = sites.billed(str(row["bs_customersiteid"]) for row in held.values())
    enriched: list[Row] = []
    for row in page:
        site = held.get(numbered[row["Id"]] or "")
        enriched.append(
            {
                **row,
                "site_exists": site is not None,
                "site_status": site.get("bs_proformastatus") if site else None,
                "proforma_of": site.get("bs_salesforceopportunityid") if site else None,
                "billed": site is not None and str(site["bs_customersiteid"]) in billed,
                "mapped_site": mapped.get(row["Id"]),
            }
        )
    return enriched


def proforma_sites_stream(rest: SalesforceRest, dataverse: DataverseClient) -> Stream[SoldSite]:
    """Opportunities with a site number, by SystemModstamp through queryAll, as customer sites."""
    sites = CustomerSites(dataverse)
    mappings = SiteMappings(dataverse)
    fields = ", ".join(OpportunityRow.model_fields)

    def read(window: ReadWindow) -> Iterator[Sequence[Row]]:
        where = "Site_Number__c != null"
        if window.start is not None:
            where += f" AND SystemModstamp >= {soql_datetime(window.start)}"
        soql = f"SELECT {fields} FROM Opportunity WHERE {where} ORDER BY SystemModstamp ASC, Id ASC"  # noqa: S608 - declared names and a formatted datetime only
        for page in rest.query(soql, include_deleted=True):
            yield _with_sites(page, sites, mappings)

    return Stream(
        name=PROFORMA_STREAM,
        model=SoldSite,
        read=read,
        transform=to_customer_site,
        target=SITES,
        cursor="SystemModstamp",
    )


def proforma_openings_stream(
    edw: Engine, dataverse: DataverseClient, page_rows: int = 5000
) -> Stream[MasterSite]:
    """The proforma sites the EDW now holds, with its fields: a full read of a handful of sites each run."""
    sites = CustomerSites(dataverse)

    def read(_: ReadWindow) -> Iterator[Sequence[Row]]:
        proforma = sites.proforma_numbers()
        return read_master_sites(edw, page_rows, sites=proforma) if proforma else iter(())

    return Stream(name=OPENINGS_STREAM, model=MasterSite, read=read, transform=to_opened_site, target=SITES)
