"""Sold sites as proforma customer sites: created on Closed Won, opened by the EDW, retired when lost.

Each expectation is the sandbox's own rows (Salesforce's raw store, the test's
SQLite EDW copy, the Dataverse rows) read back, not the connector's logic.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest
from azure.storage.blob import BlobServiceClient

from localdev.sandbox_sql import sandbox_url
from shared.connectors.dataverse.client import DataverseClient, web_api_root
from shared.connectors.dataverse.sink import DataverseSink
from shared.connectors.salesforce.proforma import proforma_openings_stream, proforma_sites_stream
from shared.connectors.salesforce.site_mapping import MappingRefusedError, SiteMapped, SiteMappings
from shared.connectors.salesforce.streams import salesforce_streams
from shared.http.hosts import HostRegistry
from shared.pipeline.load import BatchLoader
from shared.sql.engines import sql_server_engine
from tests.connectors.conftest import Hub, dataverse_rows
from tests.fixtures.dataverse_sandbox import DataverseSandbox
from tests.fixtures.salesforce_sandbox import SalesforceSandbox
from tests.fixtures.servicebus_emulator import ServiceBusEmulator
from tests.pipeline.world import build_world

pytestmark = pytest.mark.services

SITE_COLUMNS = {"bs_proformastatus", "bs_salesforceopportunityid", "bs_sitename", "bs_rooms", "bs_glstring"}


@pytest.fixture
def hub(
    salesforce_sandbox: SalesforceSandbox,
    dataverse_sandbox: DataverseSandbox,
    sql_folder: Path,
    blob_service: BlobServiceClient,
    servicebus_emulator: ServiceBusEmulator,
    sink: DataverseSink,
) -> Iterator[Hub]:
    rest = salesforce_sandbox.rest()
    hosts = HostRegistry(verify=dataverse_sandbox.ca_bundle)
    dataverse = DataverseClient(
        hosts.client(web_api_root(dataverse_sandbox.url)), dataverse_sandbox.hub_token()
    )
    edw = sql_server_engine(sandbox_url(sql_folder), None, 60)
    streams = [
        *salesforce_streams(rest),
        proforma_sites_stream(rest, dataverse),
        proforma_openings_stream(edw, dataverse),
    ]
    world = build_world(blob_service, servicebus_emulator.connection_string, *streams)
    world.loader = BatchLoader(world.engine.catalog, world.staging, world.state, sink, world.engine.now)
    yield Hub(world, edw)
    world.bus.close()
    edw.dispose()
    hosts.close()


def sites(dataverse: DataverseSandbox) -> dict[str, dict[str, object]]:
    rows = dataverse_rows(dataverse, "bs_customersites", ("bs_sitenumber",))
    return {key[0]: {c: row.get(c) for c in SITE_COLUMNS} for key, row in rows.items()}


def opportunity(name: str, stage: str, site: str) -> dict[str, object]:
    return {
        "Name": name,
        "StageName": stage,
        "CloseDate": "2027-01-15",
        "Amount": 250000.0,
        "Site_Number__c": site,
        "Property_Name__c": name.removesuffix(" parking"),
        "Rooms__c": 410,
        "Parking_Spaces__c": 380,
        "Expected_Opening__c": "2027-04-01",
    }


def open_in_the_edw(sql_folder: Path, site: str, name: str) -> str:
    """The site appears in MASTER_NON_FINANCIAL, as Workday and the EDW learn of it; its GL string."""
    gl_string = f"02-03-{site}-"
    with closing(sqlite3.connect(sql_folder / "TP_EDW.sqlite")) as edw, edw:
        edw.execute(
            "INSERT INTO MASTER_NON_FINANCIAL (SITE, SITE_NAME, DISTRICT, STREET_ADDRESS, CITY, STATE, ZIP, "
            "GL_STRING, FIRST_WORKED_DATE, CountSite) VALUES (?, ?, 'Texas', '1 Main St', 'Dallas', 'TX', "
            "'75201', ?, '2027-04-01', 1)",
            (site, name, gl_string),
        )
    return gl_string


@pytest.mark.slow(10)
def test_a_sold_site_is_one_proforma_site_until_the_edw_opens_it_and_a_lost_one_retires(
    hub: Hub, salesforce_sandbox: SalesforceSandbox, dataverse_sandbox: DataverseSandbox, sql_folder: Path
) -> None:
    won, pending, lost, billed = salesforce_sandbox.insert(
        "Opportunity",
        [
            opportunity("Omni Dallas parking", "Closed Won", "8901"),
            opportunity("Hyatt Austin parking", "Negotiation/Review", "8902"),
            opportunity("Loews Tampa parking", "Closed Won", "8903"),
            opportunity("Westin Reno parking", "Closed Won", "8904"),
        ],
    )
    hub.sync("salesforce_opportunities", "salesforce_proforma_sites")
    proforma = {"bs_proformastatus": "proforma", "bs_rooms": 410, "bs_glstring": None}
    assert sites(dataverse_sandbox) == {
        "8901": {**proforma, "bs_salesforceopportunityid": won, "bs_sitename": "Omni Dallas"},
        "8903": {**proforma, "bs_salesforceopportunityid": lost, "bs_sitename": "Loews Tampa"},
        "8904": {**proforma, "bs_salesforceopportunityid": billed, "bs_sitename": "Westin Reno"},
    }

    gl_string = open_in_the_edw(sql_folder, "8901", "Omni Dallas Downtown")
    with dataverse_sandbox.client() as client:  # billing has begun at 8904
        [site_id] = [
            r["bs_customersiteid"]
            for r in client.get("bs_customersites?$filter=bs_sitenumber eq '8904'").json()["value"]
        ]
        statement = {"_bs_customersitefk_value": site_id, "bs_serviceperiodstart": "2027-02-01"}
        assert client.post("bs_billingstatements", json=statement).status_code == 204
    with salesforce_sandbox.api() as api:
        for record_id in (lost, billed):
            assert (
                api.patch(f"sobjects/Opportunity/{record_id}", json={"StageName": "Closed Lost"}).status_code
                == 204
            )
        assert api.patch(f"sobjects/Opportunity/{pending}", json={"Amount": 260000.0}).status_code == 204
    hub.sync("salesforce_opportunities", "salesforce_proforma_sites", "proforma_site_openings")

    after = sites(dataverse_sandbox)
    assert after["8901"] == {
        "bs_proformastatus": "opened",
        "bs_salesforceopportunityid": won,
        "bs_sitename": "Omni Dallas Downtown",
        "bs_rooms": 410,
        "bs_glstring": gl_string,
    }
    assert after["8903"]["bs_proformastatus"] == "retired"
    assert after["8904"]["bs_proformastatus"] == "proforma"  # a statement bills against it: a person decides
    assert set(after) == {"8901", "8903", "8904"}  # one row per site number, none for the open sale


def test_a_sale_at_a_site_that_already_exists_only_links_it(
    hub: Hub, salesforce_sandbox: SalesforceSandbox, dataverse_sandbox: DataverseSandbox
) -> None:
    with dataverse_sandbox.client() as client:
        site = {
            "bs_customersiteid": str(uuid.uuid4()),
            "bs_sitenumber": "0170",
            "bs_sitename": "Hilton Anatole",
        }
        assert client.post("bs_customersites", json=site).status_code == 204
    [renewal] = salesforce_sandbox.insert(
        "Opportunity", [opportunity("Hilton Anatole parking", "Closed Won", "170")]
    )
    hub.sync("salesforce_opportunities", "salesforce_proforma_sites")
    assert sites(dataverse_sandbox) == {
        "0170": {
            "bs_proformastatus": None,
            "bs_salesforceopportunityid": renewal,
            "bs_sitename": "Hilton Anatole",
            "bs_rooms": None,
            "bs_glstring": None,
        }
    }


def test_an_operators_mapping_moves_a_sale_onto_the_existing_site_and_the_sync_keeps_it(
    hub: Hub, salesforce_sandbox: SalesforceSandbox, dataverse_sandbox: DataverseSandbox
) -> None:
    with dataverse_sandbox.client() as client:
        site = {
            "bs_customersiteid": str(uuid.uuid4()),
            "bs_sitenumber": "0170",
            "bs_sitename": "Hilton Anatole",
        }
        assert client.post("bs_customersites", json=site).status_code == 204
    [sale] = salesforce_sandbox.insert(
        "Opportunity", [opportunity("Hilton Anatole parking", "Closed Won", "8911")]
    )
    hub.sync("salesforce_opportunities", "salesforce_proforma_sites")
    assert sites(dataverse_sandbox)["8911"]["bs_proformastatus"] == "proforma"  # the salesperson's typo

    hosts = HostRegistry(verify=dataverse_sandbox.ca_bundle)
    mappings = SiteMappings(
        DataverseClient(hosts.client(web_api_root(dataverse_sandbox.url)), dataverse_sandbox.hub_token())
    )
    with pytest.raises(MappingRefusedError) as refused:
        mappings.map(sale, "0999")
    assert refused.value.status == 404
    assert mappings.map(sale, "0170") == SiteMapped(sale, "0170", retired_site="8911")

    linked = {"bs_proformastatus": None, "bs_salesforceopportunityid": sale, "bs_sitename": "Hilton Anatole"}
    expected = {
        "0170": {**linked, "bs_rooms": None, "bs_glstring": None},
        "8911": {**sites(dataverse_sandbox)["8911"], "bs_proformastatus": "retired"},
    }
    assert sites(dataverse_sandbox) == expected
    with salesforce_sandbox.api() as api:  # the sale changes again: the sync must follow the mapping
        assert api.patch(f"sobjects/Opportunity/{sale}", json={"Rooms__c": 420}).status_code == 204
    hub.sync("salesforce_opportunities", "salesforce_proforma_sites")
    assert sites(dataverse_sandbox) == expected  # still one live site for the location, none re-made at 8911
    hosts.close()
