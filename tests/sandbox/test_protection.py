"""Sandbox Dataverse access and service protection: bearer tokens, 429 throttling, stats and reset."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from localdev.sandbox.signing_key import SigningKey
from tests.fixtures.dataverse_sandbox import DataverseSandbox
from tests.sandbox.multipart import Op, post_batch

pytestmark = pytest.mark.services

JOBS = "bs_jobcodes?$select=bs_jobcode"


def _signed(sandbox: DataverseSandbox, **changes: object) -> str:
    """A token signed with the sandbox's own key (from its data folder), with some claims changed."""
    now = int(time.time())
    claims = {
        "aud": sandbox.url,
        "iss": f"{sandbox.authority}/v2.0",
        "iat": now,
        "nbf": now,
        "exp": now + 600,
        "tid": sandbox.tenant_id,
        "azp": sandbox.client_id,
        **changes,
    }
    return SigningKey.load_or_create(sandbox.data_dir).sign(claims)


def test_the_web_api_wants_a_token_for_this_environment(dataverse_sandbox: DataverseSandbox) -> None:
    hub_api_token = dataverse_sandbox.access_token(dataverse_sandbox.hub_api_identifier)
    refused = {
        "no token": None,
        "not a JWT": "not-a-jwt",
        "token for another API": hub_api_token,
        "expired": _signed(dataverse_sandbox, exp=int(time.time()) - 120),
        "another issuer": _signed(dataverse_sandbox, iss="https://login.microsoftonline.com/other/v2.0"),
    }
    with httpx.Client(base_url=dataverse_sandbox.web_api, verify=dataverse_sandbox.tls()) as client:
        for reason, token in refused.items():
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            answer = client.get(JOBS, headers=headers)
            assert answer.status_code == 401, reason
            assert answer.headers["WWW-Authenticate"] == (
                f"Bearer authorization_uri={dataverse_sandbox.authority}/oauth2/authorize, "
                f"resource_id={dataverse_sandbox.url}/"
            )
            assert set(answer.json()["error"]) == {"code", "message"}
        accepted = client.get(JOBS, headers={"Authorization": f"Bearer {_signed(dataverse_sandbox)}"})
        assert accepted.status_code == 200


def test_a_request_limit_answers_429_with_retry_after(dataverse_sandbox: DataverseSandbox) -> None:
    dataverse_sandbox.throttle(limit=3, window_seconds=60, retry_after=7)
    with dataverse_sandbox.client() as api:
        statuses = [api.get(JOBS).status_code for _ in range(3)]
        throttled = api.get(JOBS)

    assert statuses == [200, 200, 200]
    assert throttled.status_code == 429
    assert throttled.headers["Retry-After"] == "7"
    assert throttled.json()["error"] == {
        "code": "0x80072322",
        "message": "Number of requests exceeded the limit of 3 over time window of 60 seconds.",
    }


def test_the_window_slides_and_retry_after_says_when(dataverse_sandbox: DataverseSandbox) -> None:
    dataverse_sandbox.throttle(limit=1, window_seconds=2)
    with dataverse_sandbox.client() as api:
        assert api.get(JOBS).status_code == 200
        throttled = api.get(JOBS)
        assert throttled.status_code == 429
        wait = int(throttled.headers["Retry-After"])
        assert 1 <= wait <= 2
        time.sleep(wait)
        assert api.get(JOBS).status_code == 200


def test_a_batch_is_one_request_towards_the_limit(dataverse_sandbox: DataverseSandbox) -> None:
    dataverse_sandbox.throttle(limit=2, window_seconds=60)
    ops: list[Op] = [Op("PATCH", f"bs_jobcodes(bs_jobcode='J{n}')", {"bs_jobtitle": "x"}) for n in range(50)]
    with dataverse_sandbox.client() as api:
        assert post_batch(api, [*ops]).status_code == 200
        assert post_batch(api, [*ops]).status_code == 200
        assert post_batch(api, [*ops]).status_code == 429


def test_execution_time_is_charged_per_operation_and_a_batch_adds_its_operations(
    dataverse_sandbox: DataverseSandbox,
) -> None:
    dataverse_sandbox.throttle(execution_ms_limit=1000, cost_ms_per_operation=100, window_seconds=60)
    ops: list[Op] = [Op("PATCH", f"bs_jobcodes(bs_jobcode='J{n}')", {"bs_jobtitle": "x"}) for n in range(6)]
    with dataverse_sandbox.client() as api:
        started = time.monotonic()
        assert post_batch(api, ops).status_code == 200  # one request, 600 ms of execution
        held = time.monotonic() - started
        statuses = [api.get(JOBS).status_code for _ in range(4)]  # 100 ms each: 1000 ms spent
        throttled = api.get(JOBS)

    assert held >= 0.6
    assert statuses == [200, 200, 200, 200]
    assert throttled.status_code == 429
    assert 1 <= int(throttled.headers["Retry-After"]) <= 60
    assert throttled.json()["error"] == {
        "code": "0x80072321",
        "message": (
            "Combined execution time of incoming requests exceeded limit of 1,000 milliseconds over "
            "time window of 60 seconds. Decrease number of concurrent requests or reduce the duration "
            "of requests and try again later."
        ),
    }
    assert dataverse_sandbox.stats()["throttled_by_code"] == {"0x80072321": 1}


def test_execution_time_leaves_the_window_as_it_slides(dataverse_sandbox: DataverseSandbox) -> None:
    dataverse_sandbox.throttle(execution_ms_limit=100, cost_ms_per_operation=100, window_seconds=2)
    with dataverse_sandbox.client() as api:
        assert api.get(JOBS).status_code == 200
        throttled = api.get(JOBS)
        assert throttled.status_code == 429
        time.sleep(int(throttled.headers["Retry-After"]))
        assert api.get(JOBS).status_code == 200


def test_concurrent_requests_past_the_limit_answer_429(dataverse_sandbox: DataverseSandbox) -> None:
    dataverse_sandbox.throttle(concurrent_limit=2, cost_ms_per_operation=1500)
    token = dataverse_sandbox.access_token()

    def one_request(_: int) -> httpx.Response:
        with dataverse_sandbox.client(token) as api:
            return api.get(JOBS)

    with ThreadPoolExecutor(max_workers=3) as pool:
        answers = list(pool.map(one_request, range(3)))

    assert sorted(answer.status_code for answer in answers) == [200, 200, 429]
    refused = next(answer for answer in answers if answer.status_code == 429)
    assert refused.headers["Retry-After"] == "1"
    assert refused.json()["error"] == {
        "code": "0x80072326",
        "message": "Number of concurrent requests exceeded the limit of 2.",
    }
    with dataverse_sandbox.client(token) as api:  # the two in flight were answered: a slot is free
        assert api.get(JOBS).status_code == 200


def test_a_seeded_fraction_throttles_the_same_requests_every_time(
    dataverse_sandbox: DataverseSandbox,
) -> None:
    runs = []
    for _ in range(2):
        dataverse_sandbox.throttle(0.3, seed=42)
        with dataverse_sandbox.client() as api:
            runs.append([api.get(JOBS).status_code for _ in range(200)])

    assert runs[0] == runs[1]
    throttled = runs[0].count(429)
    assert 40 <= throttled <= 80 and set(runs[0]) == {200, 429}
    dataverse_sandbox.throttle(0.0)
    with dataverse_sandbox.client() as api:
        assert all(api.get(JOBS).status_code == 200 for _ in range(20))


def test_stats_count_requests_and_reset_forgets_everything(dataverse_sandbox: DataverseSandbox) -> None:
    with dataverse_sandbox.client() as api:
        api.patch("bs_jobcodes(bs_jobcode='VALET')", json={"bs_jobtitle": "Valet"})
        api.get(JOBS)
        api.get("bs_jobcodes(bs_jobcode='NONE')")
        post_batch(api, [Op("DELETE", "bs_jobcodes(bs_jobcode='VALET')"), Op("GET", JOBS)])
        dataverse_sandbox.throttle(1.0)
        api.get(JOBS)

        stats = dataverse_sandbox.stats()
        assert stats == {
            "total": 5,
            "by_method": {"PATCH": 1, "GET": 3, "POST": 1},
            "by_status": {"200": 2, "204": 1, "404": 1, "429": 1},
            "batches": 1,
            "batch_requests": 2,
            "throttled": 1,
            "throttled_by_code": {"0x80072322": 1},
        }

        dataverse_sandbox.reset()
        assert dataverse_sandbox.stats()["total"] == 0
        api.patch("bs_jobcodes(bs_jobcode='CASH')", json={"bs_jobtitle": "Cashier"})  # not throttled any more
        assert [row["bs_jobcode"] for row in api.get(JOBS).json()["value"]] == ["CASH"]


def test_throttle_settings_are_checked(dataverse_sandbox: DataverseSandbox) -> None:
    with pytest.raises(httpx.HTTPStatusError):
        dataverse_sandbox.throttle(1.5)
    with pytest.raises(httpx.HTTPStatusError):
        dataverse_sandbox.throttle(concurrent_limit=-1)
    with pytest.raises(httpx.HTTPStatusError):
        dataverse_sandbox.throttle(cost_ms_per_operation=-5)
