"""Sandbox GP's fault switches as a SmartConnect client sees them: 429s, 503s and dropped connections."""

from __future__ import annotations

import httpx
import pytest

from shared.connectors.great_plains.documents import GpDocument
from shared.connectors.great_plains.smartconnect import SOAP_ACTION, envelope
from tests.fixtures.gp_sandbox import GpSandbox
from tests.great_plains.gp_world import expected, seed_chart
from tests.great_plains.statements import invoice, line, statement

pytestmark = pytest.mark.services

HEADERS = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": f'"{SOAP_ACTION}"'}
DOCUMENTS = "SELECT DOCNUMBR FROM RM20101"


def one_invoice(gp_sandbox: GpSandbox, site: str) -> GpDocument:
    (document,) = expected([statement(site, invoice(f"{site}-202504-01-00", line("25.00")))])
    seed_chart(gp_sandbox, [document])
    return document


def run_map(client: httpx.Client, gp_sandbox: GpSandbox, document: GpDocument) -> httpx.Response:
    body = envelope(document.map_id.value, document.inter_id, document.rows).encode()
    return client.post(f"{gp_sandbox.url}/SmartConnect.asmx", content=body, headers=HEADERS)


def test_throttled_and_unavailable_answer_before_anything_is_written(gp_sandbox: GpSandbox) -> None:
    document = one_invoice(gp_sandbox, "7101")
    gp_sandbox.fault("throttled", 1, seconds=3)
    gp_sandbox.fault("unavailable", 1)
    with httpx.Client() as client:
        throttled = run_map(client, gp_sandbox, document)
        unavailable = run_map(client, gp_sandbox, document)
        assert gp_sandbox.rows("TOWNE", DOCUMENTS) == []
        assert run_map(client, gp_sandbox, document).status_code == 200
    assert (throttled.status_code, throttled.headers["Retry-After"]) == (429, "3")
    assert unavailable.status_code == 503 and "Service Unavailable" in unavailable.text
    assert gp_sandbox.rows("TOWNE", DOCUMENTS) == [(document.document_number,)]
    assert gp_sandbox.faults() == {
        "throttled": {"countLeft": 0, "fraction": 0.0, "struck": 1},
        "unavailable": {"countLeft": 0, "fraction": 0.0, "struck": 1},
    }


def test_a_dropped_connection_writes_nothing_and_dropped_after_apply_writes_the_documents(
    gp_sandbox: GpSandbox,
) -> None:
    document = one_invoice(gp_sandbox, "7102")
    with httpx.Client() as client:
        gp_sandbox.fault("dropped_connection", 1)
        with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
            run_map(client, gp_sandbox, document)
        assert gp_sandbox.rows("TOWNE", DOCUMENTS) == []
        gp_sandbox.fault("dropped_after_apply", 1)
        with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
            run_map(client, gp_sandbox, document)
    assert gp_sandbox.rows("TOWNE", DOCUMENTS) == [(document.document_number,)]
    assert gp_sandbox.stats()["accepted"] == 1


def test_the_same_seed_strikes_the_same_calls_and_reset_disarms(gp_sandbox: GpSandbox) -> None:
    def throttled_of_twenty() -> list[int]:
        gp_sandbox.fault("throttled", fraction=0.3, seed=19, seconds=0)
        with httpx.Client() as client:
            answers = [client.post(f"{gp_sandbox.url}/SmartConnect.asmx", content=b"") for _ in range(20)]
        return [number for number, answer in enumerate(answers) if answer.status_code == 429]

    first = throttled_of_twenty()
    assert 1 <= len(first) <= 12 and throttled_of_twenty() == first
    assert httpx.delete(f"{gp_sandbox.url}/admin/faults").json() == {}
    gp_sandbox.fault("unavailable", 5)
    httpx.post(f"{gp_sandbox.url}/admin/reset").raise_for_status()
    assert gp_sandbox.faults() == {}
    for body in (
        {"fault": "meteor"},
        {"fault": "throttled", "seconds": 1.5},
        {"fault": "unavailable", "count": -1},
    ):
        assert httpx.post(f"{gp_sandbox.url}/admin/faults", json=body).status_code == 400, body
