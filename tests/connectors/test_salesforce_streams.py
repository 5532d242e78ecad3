"""The Salesforce streams against the sandbox org: what lands in Dataverse, deltas, deletes, ownership, limits.

Expected rows are built here from the org's raw store (``/sandbox/salesforce/records``)
with the mapping written out again, never with the connector's transforms.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from azure.storage.blob import BlobServiceClient

from shared.connectors.dataverse.sink import DataverseSink
from shared.connectors.salesforce.budget import RETRY_AFTER_SECONDS, ApiBudgetSpentError
from shared.connectors.salesforce.bulk import BulkQuery, BulkSettings
from shared.connectors.salesforce.rest import SalesforceRest
from shared.connectors.salesforce.streams import salesforce_streams
from shared.errors import ErrorClass, HubError, ThrottledError
from shared.pipeline.load import BatchLoader
from shared.pipeline.requests import SyncRequest
from tests.connectors.conftest import Hub, dataverse_rows
from tests.fixtures.dataverse_sandbox import DataverseSandbox
from tests.fixtures.salesforce_sandbox import SalesforceSandbox
from tests.fixtures.servicebus_emulator import ServiceBusEmulator
from tests.pipeline.world import build_world

pytestmark = pytest.mark.services

PIPELINE = ("salesforce_accounts", "salesforce_contacts", "salesforce_leads", "salesforce_opportunities")
KEY = ("bs_salesforceid",)


def salesforce_hub(
    rest: SalesforceRest,
    blob_service: BlobServiceClient,
    emulator: ServiceBusEmulator,
    sink: DataverseSink,
    bulk: BulkQuery | None = None,
) -> Iterator[Hub]:
    world = build_world(blob_service, emulator.connection_string, *salesforce_streams(rest, bulk))
    world.loader = BatchLoader(world.engine.catalog, world.staging, world.state, sink, world.engine.now)
    yield Hub(world, None)  # type: ignore[arg-type]  # no SQL engine behind these streams
    world.bus.close()


@pytest.fixture
def hub(
    salesforce_sandbox: SalesforceSandbox,
    blob_service: BlobServiceClient,
    servicebus_emulator: ServiceBusEmulator,
    sink: DataverseSink,
) -> Iterator[Hub]:
    yield from salesforce_hub(salesforce_sandbox.rest(), blob_service, servicebus_emulator, sink)


def opportunity_row(record: dict[str, Any]) -> dict[str, Any]:
    """The bs_salesforceopportunity columns one Opportunity should give, spelled out from Salesforce's fields."""
    amount, probability = record["Amount"] or 0.0, record["Probability"] or 0.0
    return {
        "bs_name": record["Name"],
        "bs_stage": record["StageName"],
        "bs_amount": record["Amount"],
        "bs_probability": record["Probability"],
        "bs_weightedamount": round(amount * probability / 100, 2),
        "bs_closedate": record["CloseDate"],
        "bs_iswon": record["StageName"] == "Closed Won",
        "bs_region": record["Region__c"],
        "bs_proposedsitenumber": record["Site_Number__c"],
        "bs_rooms": record["Rooms__c"],
        "bs_expectedopening": record["Expected_Opening__c"],
        "bs_isdeleted": record["IsDeleted"],
    }


def landed(dataverse: DataverseSandbox, entity_set: str, columns: set[str]) -> dict[str, dict[str, Any]]:
    rows = dataverse_rows(dataverse, entity_set, KEY)
    return {key[0]: {c: v for c, v in row.items() if c in columns} for key, row in rows.items()}


def second(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("+0000", "+00:00")).replace(microsecond=0)


@pytest.mark.slow(12)
def test_the_pipeline_lands_then_a_second_run_reads_only_changes_and_deletes(
    hub: Hub, salesforce_sandbox: SalesforceSandbox, dataverse_sandbox: DataverseSandbox
) -> None:
    salesforce_sandbox.seed(accounts=12, leads=25, opportunities=230)
    first = hub.sync(*PIPELINE)

    opportunities = salesforce_sandbox.records("Opportunity")
    expected = {r["Id"]: opportunity_row(r) for r in opportunities}
    assert (
        landed(dataverse_sandbox, "bs_salesforceopportunities", set(opportunity_row(opportunities[0])))
        == expected
    )
    assert first["salesforce_opportunities"].extract.read == 230  # two pages of 200 and 30
    leads = {
        r["Id"]: {"bs_email": r["Email"], "bs_company": r["Company"]}
        for r in salesforce_sandbox.records("Lead")
    }
    assert landed(dataverse_sandbox, "bs_salesforceleads", {"bs_email", "bs_company"}) == leads
    contacts = {r["Id"]: {"bs_accountid": r["AccountId"]} for r in salesforce_sandbox.records("Contact")}
    assert landed(dataverse_sandbox, "bs_salesforcecontacts", {"bs_accountid"}) == contacts
    accounts = {r["Id"]: {"bs_name": r["Name"]} for r in salesforce_sandbox.records("Account")}
    assert landed(dataverse_sandbox, "bs_salesforceaccounts", {"bs_name"}) == accounts

    # Records stamped in the watermark's second are read again (SOQL compares to the second).
    last = max(second(r["SystemModstamp"]) for r in opportunities)
    boundary = {r["Id"] for r in opportunities if second(r["SystemModstamp"]) == last}
    open_ones = [r["Id"] for r in opportunities if r["StageName"] not in ("Closed Won", "Closed Lost")]
    moved, deleted = open_ones[:3], open_ones[3]
    with salesforce_sandbox.api() as api:
        for record_id in moved:
            assert (
                api.patch(
                    f"sobjects/Opportunity/{record_id}", json={"StageName": "Negotiation/Review"}
                ).status_code
                == 204
            )
        assert api.delete(f"sobjects/Opportunity/{deleted}").status_code == 204

    again = hub.sync("salesforce_opportunities")["salesforce_opportunities"]
    assert again.extract.read == len(boundary | {*moved, deleted})
    assert again.extract.staged == 4
    after = {r["Id"]: opportunity_row(r) for r in salesforce_sandbox.records("Opportunity")}
    assert after[deleted]["bs_isdeleted"] is True and after[moved[0]]["bs_probability"] == 90
    assert (
        landed(dataverse_sandbox, "bs_salesforceopportunities", set(opportunity_row(opportunities[0])))
        == after
    )


def test_billing_keeps_its_contract_type_and_the_run_says_so(
    hub: Hub, salesforce_sandbox: SalesforceSandbox, dataverse_sandbox: DataverseSandbox
) -> None:
    [sold] = salesforce_sandbox.insert(
        "Opportunity",
        [
            {
                "Name": "Omni Dallas parking",
                "StageName": "Proposal/Price Quote",
                "CloseDate": "2027-02-01",
                "Amount": 400000.0,
                "Contract_Type__c": "Revenue Share",
            }
        ],
    )
    hub.sync("salesforce_opportunities")
    with dataverse_sandbox.client() as client:
        path = f"bs_salesforceopportunities(bs_salesforceid='{sold}')"
        assert client.patch(path, json={"bs_contracttype": "Management Agreement"}).status_code == 204
    with salesforce_sandbox.api() as api:
        api.patch(
            f"sobjects/Opportunity/{sold}", json={"StageName": "Closed Won", "Contract_Type__c": "Fixed Fee"}
        )

    run = hub.sync("salesforce_opportunities")["salesforce_opportunities"]
    row = landed(dataverse_sandbox, "bs_salesforceopportunities", {"bs_stage", "bs_contracttype"})[sold]
    assert row == {"bs_stage": "Closed Won", "bs_contracttype": "Management Agreement"}
    assert [(p.key, p.message) for p in run.problems] == [([sold], "kept Dataverse's bs_contracttype")]


def test_near_the_daily_limit_the_sync_stops_itself_and_resumes_once_calls_free_up(
    salesforce_sandbox: SalesforceSandbox,
    dataverse_sandbox: DataverseSandbox,
    blob_service: BlobServiceClient,
    servicebus_emulator: ServiceBusEmulator,
    sink: DataverseSink,
) -> None:
    now = [0.0]
    rest = salesforce_sandbox.rest(clock=lambda: now[0])
    hub = next(salesforce_hub(rest, blob_service, servicebus_emulator, sink))
    salesforce_sandbox.seed(accounts=3, leads=0, opportunities=450)  # three pages of 200, 200, 50
    salesforce_sandbox.limits(daily_limit=100, used=48)  # the hub's share is 50%: two calls left
    stopped = hub.world.engine.run(SyncRequest("salesforce_opportunities", trigger="test"))

    assert stopped.error is not None and stopped.error.error_class == ErrorClass.THROTTLED.value
    assert (
        "Salesforce API budget reached: the org has used 50 of its 100 daily calls" in stopped.error.message
    )
    assert stopped.error.retry_after == 900
    assert salesforce_sandbox.limits() == {"daily_limit": 100, "used": 50}  # no call past the share, no 403

    salesforce_sandbox.limits(daily_limit=10_000)  # the rolling day moved on
    now[0] = RETRY_AFTER_SECONDS  # when the run's request comes back
    hub.sync("salesforce_opportunities")
    assert len(landed(dataverse_sandbox, "bs_salesforceopportunities", {"bs_stage"})) == 450


def test_an_expired_session_signs_in_again_and_salesforce_errors_are_classified(
    salesforce_sandbox: SalesforceSandbox,
) -> None:
    salesforce_sandbox.insert("Lead", [{"LastName": "Ngata", "Company": "Hilton Denver"}])
    rest = salesforce_sandbox.rest()
    query = "SELECT Id, LastName FROM Lead"
    assert [r["LastName"] for page in rest.query(query) for r in page] == ["Ngata"]
    salesforce_sandbox.expire_sessions()
    assert [r["LastName"] for page in rest.query(query) for r in page] == ["Ngata"]

    with pytest.raises(HubError) as schema:
        list(rest.query("SELECT Id, Rating__c FROM Lead"))
    assert schema.value.error_class is ErrorClass.CONFIG and "INVALID_FIELD" in str(schema.value)

    salesforce_sandbox.limits(daily_limit=5, used=5)
    with pytest.raises(ThrottledError) as limited:
        list(salesforce_sandbox.rest(share=1.0).query(query))
    assert "REQUEST_LIMIT_EXCEEDED" in str(limited.value) and not isinstance(
        limited.value, ApiBudgetSpentError
    )

    salesforce_sandbox.limits(daily_limit=100_000, used=0)
    salesforce_sandbox.outage(True)
    with pytest.raises(HubError) as down:
        list(salesforce_sandbox.rest().query(query))
    assert down.value.error_class is ErrorClass.TRANSIENT


@pytest.mark.slow(6)
def test_a_read_above_the_bulk_threshold_goes_through_a_bulk_api_job_and_lands_the_same_rows(
    salesforce_sandbox: SalesforceSandbox,
    dataverse_sandbox: DataverseSandbox,
    blob_service: BlobServiceClient,
    servicebus_emulator: ServiceBusEmulator,
    sink: DataverseSink,
) -> None:
    rest = salesforce_sandbox.rest()
    bulk = BulkQuery(rest, BulkSettings(threshold=150, max_records=100, poll_seconds=0.01))
    salesforce_sandbox.seed(accounts=4, leads=0, opportunities=230)
    with salesforce_sandbox.api() as api:  # a record in the recycle bin must come through queryAll
        deleted = salesforce_sandbox.records("Opportunity")[0]["Id"]
        assert api.delete(f"sobjects/Opportunity/{deleted}").status_code == 204
    for hub in salesforce_hub(rest, blob_service, servicebus_emulator, sink, bulk):
        read = hub.sync("salesforce_accounts", "salesforce_opportunities")

    jobs = {job["object"]: job for job in salesforce_sandbox.bulk_jobs()}
    assert set(jobs) == {"Opportunity"}  # 4 accounts stay on REST, below the threshold
    assert (jobs["Opportunity"]["operation"], jobs["Opportunity"]["records"]) == ("queryAll", 230)
    assert jobs["Opportunity"]["resultSets"] == 3  # 100 + 100 + 30, followed by Sforce-Locator
    assert read["salesforce_opportunities"].extract.read == 230
    opportunities = salesforce_sandbox.records("Opportunity")
    expected = {r["Id"]: opportunity_row(r) for r in opportunities}
    assert expected[deleted]["bs_isdeleted"] is True
    assert (
        landed(dataverse_sandbox, "bs_salesforceopportunities", set(opportunity_row(opportunities[0])))
        == expected
    )
