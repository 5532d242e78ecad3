"""The weighted pipeline in TP_STAGE: equal to the sandbox org's opportunities summed here, written only on change.

The expected rows are summed in this file from the org's raw store
(``/sandbox/salesforce/records``) and the table is read back with plain SQLite
from the test's copy of TP_STAGE, never through the reporting code.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from azure.storage.blob import BlobServiceClient

from localdev.sandbox_sql import sandbox_url
from shared.connectors.dataverse.client import DataverseClient, web_api_root
from shared.connectors.dataverse.sink import DataverseSink
from shared.http.hosts import HostRegistry
from shared.sql.engines import sql_server_engine
from shared.workflows.pipeline_reporting.report import PipelineReporting, PipelineWritten
from tests.connectors.conftest import Hub
from tests.connectors.test_salesforce_streams import salesforce_hub
from tests.fixtures.dataverse_sandbox import DataverseSandbox
from tests.fixtures.salesforce_sandbox import SalesforceSandbox
from tests.fixtures.servicebus_emulator import ServiceBusEmulator

pytestmark = pytest.mark.services

CENT = Decimal("0.01")


@pytest.fixture
def reporting(dataverse_sandbox: DataverseSandbox, sql_folder: Path) -> Iterator[PipelineReporting]:
    hosts = HostRegistry(verify=dataverse_sandbox.ca_bundle)
    dataverse = DataverseClient(
        hosts.client(web_api_root(dataverse_sandbox.url)), dataverse_sandbox.hub_token()
    )
    edw = sql_server_engine(sandbox_url(sql_folder), None, 60)
    yield PipelineReporting(dataverse, edw, lambda: datetime.now(UTC))
    edw.dispose()
    hosts.close()


@pytest.fixture
def hub(
    salesforce_sandbox: SalesforceSandbox,
    blob_service: BlobServiceClient,
    servicebus_emulator: ServiceBusEmulator,
    sink: DataverseSink,
) -> Iterator[Hub]:
    yield from salesforce_hub(salesforce_sandbox.rest(), blob_service, servicebus_emulator, sink)


def expected_pipeline(
    records: list[dict[str, Any]],
) -> dict[tuple[str, str, str], tuple[int, Decimal, Decimal]]:
    """The org's live opportunities summed by stage, region and opening month: count, amount, weighted amount."""
    sums: dict[tuple[str, str, str], tuple[int, Decimal, Decimal]] = {}
    for record in records:
        if record["IsDeleted"]:
            continue
        amount = Decimal(str(record["Amount"] or 0))
        weighted = (amount * Decimal(str(record["Probability"] or 0)) / 100).quantize(CENT)
        key = (record["StageName"], record["Region__c"] or "", (record["Expected_Opening__c"] or "")[:7])
        count, total, total_weighted = sums.get(key, (0, Decimal(0), Decimal(0)))
        sums[key] = (count + 1, total + amount, total_weighted + weighted)
    return {
        key: (count, total.quantize(CENT), weighted.quantize(CENT))
        for key, (count, total, weighted) in sums.items()
    }


def stage_table(sql_folder: Path) -> dict[tuple[str, str, str], tuple[int, Decimal, Decimal, str]]:
    with closing(sqlite3.connect(sql_folder / "TP_STAGE.sqlite")) as stage:
        rows = stage.execute(
            "SELECT STAGE, REGION, OPENING_MONTH, OPPORTUNITIES, AMOUNT, WEIGHTED_AMOUNT, UPDATED_AT "
            "FROM HUB_SALESFORCE_PIPELINE"
        ).fetchall()
    return {
        (stage_name, region, month): (
            count,
            Decimal(str(amount)).quantize(CENT),
            Decimal(str(weighted)).quantize(CENT),
            str(updated),
        )
        for stage_name, region, month, count, amount, weighted, updated in rows
    }


def sums_only(
    table: dict[tuple[str, str, str], tuple[int, Decimal, Decimal, str]],
) -> dict[tuple[str, str, str], tuple[int, Decimal, Decimal]]:
    return {key: row[:3] for key, row in table.items()}


@pytest.mark.slow(8)
def test_the_weighted_pipeline_equals_the_orgs_sums_and_a_run_with_no_change_writes_nothing(
    hub: Hub, salesforce_sandbox: SalesforceSandbox, reporting: PipelineReporting, sql_folder: Path
) -> None:
    salesforce_sandbox.seed(accounts=6, leads=0, opportunities=120)
    hub.sync("salesforce_accounts", "salesforce_opportunities")

    first = reporting.run()
    expected = expected_pipeline(salesforce_sandbox.records("Opportunity"))
    written = stage_table(sql_folder)
    assert sums_only(written) == expected
    assert first == PipelineWritten(added=len(expected), changed=0, removed=0)
    assert len(expected) > 10  # stages x regions x months: a real spread, not one group

    assert reporting.run() == PipelineWritten(0, 0, 0)
    assert stage_table(sql_folder) == written  # not even UPDATED_AT moved

    records = salesforce_sandbox.records("Opportunity")
    alone = [key for key, (count, _, _) in expected.items() if count == 1]
    lonely = next(
        r
        for r in records
        if (r["StageName"], r["Region__c"] or "", (r["Expected_Opening__c"] or "")[:7]) == alone[0]
    )
    moved = next(r for r in records if r["StageName"] == "Prospecting" and r["Id"] != lonely["Id"])
    with salesforce_sandbox.api() as api:
        assert api.delete(f"sobjects/Opportunity/{lonely['Id']}").status_code == 204
        assert api.patch(f"sobjects/Opportunity/{moved['Id']}", json={"Amount": 1234567.0}).status_code == 204
    hub.sync("salesforce_opportunities")

    again = reporting.run()
    after = expected_pipeline(salesforce_sandbox.records("Opportunity"))
    assert sums_only(stage_table(sql_folder)) == after
    assert alone[0] not in after and again == PipelineWritten(added=0, changed=1, removed=1)

    month = moved["Expected_Opening__c"][:7]
    found = reporting.groups("Prospecting", moved["Region__c"], month)
    assert [(g.opportunities, g.amount, g.weighted_amount) for g in found] == [
        after[("Prospecting", moved["Region__c"], month)]
    ]
