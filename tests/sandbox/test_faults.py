"""The sandbox Dataverse's fault switches: the failures real Dataverse gives and the sandbox otherwise never does."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from tests.fixtures.dataverse_sandbox import DataverseSandbox
from tests.sandbox.multipart import Op, post_batch, read_batch

pytestmark = pytest.mark.services

JOBS = "bs_jobcodes?$select=bs_jobcode"
PATH = "/api/data/v9.2/"


@pytest.fixture
def api(dataverse_sandbox: DataverseSandbox) -> Iterator[httpx.Client]:
    with dataverse_sandbox.client() as client:
        yield client


def test_an_html_500_strikes_exactly_count_requests(
    api: httpx.Client, dataverse_sandbox: DataverseSandbox
) -> None:
    dataverse_sandbox.fault("html_500", 2)
    answers = [api.get(JOBS) for _ in range(3)]
    assert [answer.status_code for answer in answers] == [500, 500, 200]
    assert answers[0].headers["content-type"] == "text/html"
    assert answers[0].text.startswith("<!DOCTYPE html>")
    assert dataverse_sandbox.faults()["html_500"] == {"countLeft": 0, "fraction": 0.0, "struck": 2}


def test_503_and_413_carry_odata_bodies(api: httpx.Client, dataverse_sandbox: DataverseSandbox) -> None:
    dataverse_sandbox.fault("unavailable_503", 1)
    unavailable = api.get(JOBS)
    assert (unavailable.status_code, unavailable.headers["Retry-After"]) == (503, "1")
    assert unavailable.json()["error"]["message"] == "The service is unavailable."
    dataverse_sandbox.fault("too_large_413", 1)
    too_large = api.patch("bs_jobcodes(bs_jobcode='BIG')", json={"bs_jobtitle": "x" * 100})
    assert too_large.status_code == 413
    assert api.get("bs_jobcodes(bs_jobcode='BIG')").status_code == 404


def test_a_fraction_strikes_a_seeded_share(api: httpx.Client, dataverse_sandbox: DataverseSandbox) -> None:
    dataverse_sandbox.fault("unavailable_503", fraction=0.5)
    statuses = [api.get(JOBS).status_code for _ in range(40)]
    assert 8 <= statuses.count(503) <= 32 and statuses.count(200) == 40 - statuses.count(503)


def test_a_late_answer_outlasts_the_read_timeout_but_the_write_happens(
    dataverse_sandbox: DataverseSandbox,
) -> None:
    dataverse_sandbox.fault("late_answer", 1, seconds=1.5)
    with dataverse_sandbox.client() as api:
        api.timeout = httpx.Timeout(10, read=0.5)
        with pytest.raises(httpx.ReadTimeout):
            api.patch("bs_jobcodes(bs_jobcode='LATE')", json={"bs_jobtitle": "late"})
        time.sleep(1.2)
        assert api.get("bs_jobcodes(bs_jobcode='LATE')").json()["bs_jobtitle"] == "late"


def test_one_operation_inside_a_batch_is_throttled(
    api: httpx.Client, dataverse_sandbox: DataverseSandbox
) -> None:
    dataverse_sandbox.fault("batch_operation_429", 1)
    response = post_batch(
        api,
        [Op("PATCH", f"{PATH}bs_jobcodes(bs_jobcode='{code}')", {"bs_jobtitle": code}) for code in "ABC"],
        prefer="odata.continue-on-error",
    )
    assert response.status_code == 200
    answers = [item[0] for item in read_batch(response)]
    assert [answer.status for answer in answers] == [429, 204, 204]
    assert answers[0].json()["error"]["code"] == "0x80072322"
    assert api.get("bs_jobcodes(bs_jobcode='A')").status_code == 404


def test_a_token_lapsed_mid_run_is_refused_with_the_bearer_challenge(
    api: httpx.Client, dataverse_sandbox: DataverseSandbox
) -> None:
    dataverse_sandbox.fault("expired_token_401", 1)
    refused = api.get(JOBS)
    assert refused.status_code == 401
    assert refused.headers["WWW-Authenticate"].startswith("Bearer authorization_uri=")
    assert "expired" in refused.json()["error"]["message"]
    assert api.get(JOBS).status_code == 200


def test_reset_disarms_every_fault_and_bad_settings_are_refused(dataverse_sandbox: DataverseSandbox) -> None:
    dataverse_sandbox.fault("html_500", 5)
    dataverse_sandbox.reset()
    assert dataverse_sandbox.faults() == {}
    with httpx.Client(verify=dataverse_sandbox.tls()) as admin:
        for body in (
            {"fault": "meteor"},
            {"fault": "html_500", "count": -1},
            {"fault": "html_500", "fraction": 2},
        ):
            assert admin.post(f"{dataverse_sandbox.url}/sandbox/faults", json=body).status_code == 400, body


def test_a_dropped_connection_gets_no_answer_and_the_write_is_not_applied(
    api: httpx.Client, dataverse_sandbox: DataverseSandbox
) -> None:
    dataverse_sandbox.fault("dropped_connection", 1)
    with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
        api.patch("bs_jobcodes(bs_jobcode='DROP')", json={"bs_jobtitle": "dropped"})
    assert api.get("bs_jobcodes(bs_jobcode='DROP')").status_code == 404
    assert dataverse_sandbox.stats()["by_status"] == {"0": 1, "404": 1}


def test_dropped_after_apply_writes_the_batch_then_gives_no_answer(
    api: httpx.Client, dataverse_sandbox: DataverseSandbox
) -> None:
    dataverse_sandbox.fault("dropped_after_apply", 1)
    with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
        post_batch(
            api,
            [Op("PATCH", f"{PATH}bs_jobcodes(bs_jobcode='{code}')", {"bs_jobtitle": code}) for code in "DE"],
        )
    titles = api.get("bs_jobcodes?$select=bs_jobcode,bs_jobtitle").json()["value"]
    assert sorted((row["bs_jobcode"], row["bs_jobtitle"]) for row in titles) == [("D", "D"), ("E", "E")]
    assert dataverse_sandbox.faults()["dropped_after_apply"]["struck"] == 1


def test_the_same_seed_drops_the_same_requests(dataverse_sandbox: DataverseSandbox) -> None:
    def dropped_of_twenty() -> list[int]:
        dataverse_sandbox.reset()
        dataverse_sandbox.fault("dropped_connection", fraction=0.3, seed=19)
        dropped = []
        with dataverse_sandbox.client() as client:
            for number in range(20):
                try:
                    client.get(JOBS).raise_for_status()
                except (httpx.RemoteProtocolError, httpx.ReadError):
                    dropped.append(number)
        return dropped

    first = dropped_of_twenty()
    assert 1 <= len(first) <= 12 and dropped_of_twenty() == first
