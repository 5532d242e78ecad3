"""The sandboxes' outage switches: Dataverse's front door answers 503, sandbox GP's relay 502, for a while."""

from __future__ import annotations

import time

import httpx
import pytest

from localdev.outage import OutageSwitch
from tests.fixtures.dataverse_sandbox import DataverseSandbox
from tests.fixtures.gp_sandbox import GpSandbox

pytestmark = pytest.mark.services

JOBS = "bs_jobcodes?$select=bs_jobcode"


def test_an_outage_answers_503_without_retry_after_until_it_ends(dataverse_sandbox: DataverseSandbox) -> None:
    with dataverse_sandbox.client() as client:
        assert client.get(JOBS).status_code == 200
        dataverse_sandbox.outage(1.5)
        down = client.get(JOBS)
        assert down.status_code == 503
        assert "Retry-After" not in down.headers
        assert down.json() == {"error": {"code": "", "message": "The service is unavailable."}}
        assert client.get("bs_jobcodes", headers={"Authorization": "Bearer not-a-jwt"}).status_code == 503
        time.sleep(1.6)
        assert client.get(JOBS).status_code == 200
    assert dataverse_sandbox.stats()["by_status"] == {"200": 2, "503": 2}


def test_an_open_ended_outage_lasts_until_switched_back(dataverse_sandbox: DataverseSandbox) -> None:
    with dataverse_sandbox.client() as client:
        dataverse_sandbox.outage(None)
        time.sleep(0.2)
        assert client.get(JOBS).status_code == 503
        dataverse_sandbox.access_token()  # Entra ID is another service: still signing in
        dataverse_sandbox.outage(0)
        assert client.get(JOBS).status_code == 200


def test_reset_ends_an_outage(dataverse_sandbox: DataverseSandbox) -> None:
    dataverse_sandbox.outage(None)
    dataverse_sandbox.reset()
    with dataverse_sandbox.client() as client:
        assert client.get(JOBS).status_code == 200


def test_the_outage_endpoint_refuses_what_is_not_a_duration(dataverse_sandbox: DataverseSandbox) -> None:
    with httpx.Client(verify=dataverse_sandbox.tls()) as client:
        for body in ({}, {"seconds": "soon"}, {"seconds": True}):
            answer = client.post(f"{dataverse_sandbox.url}/sandbox/outage", json=body)
            assert answer.status_code == 400, body


def test_sandbox_gp_down_for_seconds_comes_back_by_itself(gp_sandbox: GpSandbox) -> None:
    soap = {"SOAPAction": "http://tempuri.org/RunMapDataTable"}

    def call() -> int:
        return httpx.post(f"{gp_sandbox.url}/SmartConnect.asmx", headers=soap, content=b"").status_code

    normal = call()
    gp_sandbox.mode("down", seconds=1.0)
    assert (call(), call()) == (502, 502)  # calls do not use the outage up: only time does
    time.sleep(1.1)
    assert call() == normal != 502
    assert gp_sandbox.stats()["mode"] == "normal"


def test_a_switch_times_out_on_its_own_clock() -> None:
    now = [100.0]
    switch = OutageSwitch(clock=lambda: now[0])
    switch.begin(30)
    assert (switch.down, switch.remaining()) == (True, 30.0)
    now[0] = 129.0
    assert switch.down
    now[0] = 130.0
    assert not switch.down
    switch.begin(None)
    now[0] = 10_000.0
    assert (switch.down, switch.remaining()) == (True, None)
    switch.end()
    assert not switch.down
