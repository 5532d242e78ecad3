"""The execution context as Dataverse serialises it (DataContract JSON), read by the hub's model."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from shared.connectors.dataverse.events import parse_event

PROCESS_ID = "3d1feef9-604d-ef11-bfe3-6045bd03d9d8"
STATEMENT_ID = "97c90b02-4e38-ef11-a315-000d3a5a54dc"
# The shape of Microsoft's samples: escaped slashes, a zone on OperationCreatedOn, a BOM, fields the hub
# does not read (ParentContext, SharedVariables, OwningExtension ...).
CONTEXT = (
    "\ufeff"
    '{"BusinessUnitId":"a3c20b02-4e38-ef11-a315-000d3a5a54dc","CorrelationId":"e1bcd028-ae87-4ca6-af27-a17ee680dbc9",'
    '"Depth":2,"InitiatingUserId":"d89254ff-9438-ef11-a315-000d3a5a54dc","InputParameters":[{"key":"Target","value":'
    '{"__type":"Entity:http:\\/\\/schemas.microsoft.com\\/xrm\\/2011\\/Contracts","Attributes":['
    '{"key":"bs_sendaction","value":{"__type":"OptionSetValue:http:\\/\\/schemas.microsoft.com\\/xrm\\/2011\\/Contracts","Value":126840002}},'
    '{"key":"bs_emailgenerationprocessid","value":"' + PROCESS_ID + '"}],'
    '"EntityState":null,"FormattedValues":[],"Id":"' + PROCESS_ID + '","KeyAttributes":[],'
    '"LogicalName":"bs_emailgenerationprocess","RelatedEntities":[],"RowVersion":"5948260"}}],'
    '"IsolationMode":1,"MessageName":"Update","Mode":1,"OperationCreatedOn":"\\/Date(1722582039000+0000)\\/",'
    '"OrganizationId":"6042beb1-a93a-ef11-8e4b-00224802c699","OutputParameters":[],'
    '"OwningExtension":{"Id":"8ff4bda5-9d4e-ef11-bfe3-00224802dbb1","LogicalName":"sdkmessageprocessingstep"},'
    '"ParentContext":null,"PostEntityImages":[{"key":"PostImage","value":{"Attributes":['
    '{"key":"bs_billingstatementfk","value":{"__type":"EntityReference:http:\\/\\/schemas.microsoft.com\\/xrm\\/2011\\/Contracts",'
    '"Id":"'
    + STATEMENT_ID
    + '","KeyAttributes":[],"LogicalName":"bs_billingstatement","Name":null,"RowVersion":null}},'
    '{"key":"bs_sendaction","value":{"__type":"OptionSetValue:http:\\/\\/schemas.microsoft.com\\/xrm\\/2011\\/Contracts","Value":126840002}}],'
    '"Id":"' + PROCESS_ID + '","LogicalName":"bs_emailgenerationprocess"}}],"PreEntityImages":[],'
    '"PrimaryEntityId":"' + PROCESS_ID + '","PrimaryEntityName":"bs_emailgenerationprocess",'
    '"SecondaryEntityName":"none","SharedVariables":[{"key":"IsAutoTransact","value":true}],"Stage":40,'
    '"UserId":"d89254ff-9438-ef11-a315-000d3a5a54dc"}'
)


def test_a_context_in_dataverses_json_gives_the_fields_the_hub_reads() -> None:
    event = parse_event(CONTEXT.encode("utf-8"))

    assert (event.message_name, event.primary_entity_name, event.primary_entity_id) == (
        "Update",
        "bs_emailgenerationprocess",
        uuid.UUID(PROCESS_ID),
    )
    assert event.depth == 2 and event.correlation_id == uuid.UUID("e1bcd028-ae87-4ca6-af27-a17ee680dbc9")
    assert event.operation_created_on == datetime(2024, 8, 2, 7, 0, 39, tzinfo=UTC)
    assert event.target is not None and event.target.get("bs_sendaction") == 126840002
    assert event.value("bs_billingstatementfk") == STATEMENT_ID  # only the post image carries it


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not json",
        b'{"MessageName":"Create","PrimaryEntityName":"bs_contract"}',
        CONTEXT.replace(PROCESS_ID + '","PrimaryEntityName', 'nope","PrimaryEntityName').encode(),
    ],
)
def test_a_body_that_is_not_an_execution_context_is_refused(body: bytes) -> None:
    with pytest.raises(ValidationError):
        parse_event(body)
