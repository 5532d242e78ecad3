"""The RunMapDataTable envelope escapes what it carries, and replies are read as XML, never by substring."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from shared.connectors.great_plains.smartconnect import (
    SERVICE_NS,
    SOAP_NS,
    SmartConnectReplyError,
    envelope,
    read_reply,
)


def _reply(result: str) -> str:
    return (
        f'<s:Envelope xmlns:s="{SOAP_NS}"><s:Body><RunMapDataTableResponse xmlns="{SERVICE_NS}">'
        f"<RunMapDataTableResult>{result}</RunMapDataTableResult></RunMapDataTableResponse></s:Body></s:Envelope>"
    )


def test_values_are_escaped_and_the_dataset_round_trips() -> None:
    rows = [{"DocumentNumber": "A&B<1>", "Description": "]]> 'quoted' \"too\""}]
    call = ET.fromstring(envelope("RMIMPV2", "TOWNE", rows)).find(
        f"{{{SOAP_NS}}}Body/{{{SERVICE_NS}}}RunMapDataTable"
    )
    assert call is not None
    assert call.findtext(f"{{{SERVICE_NS}}}mapID") == "RMIMPV2"
    dataset = ET.fromstring(call.findtext(f"{{{SERVICE_NS}}}xml") or "")
    (table,) = dataset.findall("Table")
    assert {child.tag: child.text for child in table} == rows[0]


def test_run_map_response_with_errors_is_a_rejection_with_smartconnects_text() -> None:
    assert read_reply(
        _reply("<ErrorCount>1</ErrorCount><ErrorMessage>Account 9 does not exist</ErrorMessage>")
    ) == (
        False,
        "Account 9 does not exist",
    )
    assert read_reply(_reply("<ErrorCount>0</ErrorCount><ErrorMessage/>")) == (True, "success")


def test_a_message_that_merely_mentions_success_is_not_success() -> None:
    assert read_reply(_reply("Map failed: previous run was a success")) == (
        False,
        "Map failed: previous run was a success",
    )
    assert read_reply(_reply("Success"))[0] is True


def test_soap_fault_is_a_rejection_with_its_faultstring() -> None:
    fault = f'<s:Envelope xmlns:s="{SOAP_NS}"><s:Body><s:Fault><faultcode>s:Server</faultcode><faultstring>SmartConnect could not be loaded</faultstring></s:Fault></s:Body></s:Envelope>'
    assert read_reply(fault) == (False, "SmartConnect could not be loaded")


@pytest.mark.parametrize(
    "body", ["success", "<html>502</html>", f'<s:Envelope xmlns:s="{SOAP_NS}"><s:Body/></s:Envelope>']
)
def test_anything_else_is_not_a_reply(body: str) -> None:
    with pytest.raises(SmartConnectReplyError):
        read_reply(body)
