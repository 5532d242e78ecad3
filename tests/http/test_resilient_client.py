"""ResilientClient behaviour at the transport level: httpx.MockTransport and a real closed port."""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable, Sequence
from datetime import timedelta
from email.utils import format_datetime

import httpx
import pytest

from shared.errors import CircuitOpenError, ErrorClass, HubError, ThrottledError
from shared.http.hosts import HostRegistry
from shared.http.policy import HttpPolicy
from tests.http.fake_time import EPOCH, FakeTime

BASE = "https://org.example.crm.dynamics.com/api/data/v9.2/"
HOST = "org.example.crm.dynamics.com"


class Script:
    """A transport that answers from a list, one step per request, and logs what it was sent."""

    def __init__(self, steps: Sequence[Callable[[httpx.Request], httpx.Response] | httpx.Response]) -> None:
        self.steps = list(steps)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if not self.steps:
            pytest.fail(f"unexpected request {request.method} {request.url}")
        step = self.steps.pop(0)
        return step(request) if callable(step) else step


def _raise(error: type[httpx.TransportError]) -> Callable[[httpx.Request], httpx.Response]:
    def step(request: httpx.Request) -> httpx.Response:
        raise error("scripted failure", request=request)

    return step


@pytest.fixture
def time() -> FakeTime:
    return FakeTime()


def _registry(script: Script, time: FakeTime, policy: HttpPolicy | None = None) -> HostRegistry:
    return HostRegistry(
        policy or HttpPolicy(max_attempts=5, base_seconds=1.0, cap_seconds=8.0, budget_seconds=60.0),
        clock=time.clock,
        sleep=time.sleep,
        now=time.now,
        draw=lambda low, high: high,  # the ceiling, so the exact waits can be asserted
        transport=httpx.MockTransport(script),
    )


def test_retries_a_transient_failure_then_succeeds(time: FakeTime) -> None:
    script = Script([httpx.Response(503), _raise(httpx.ReadTimeout), httpx.Response(200, json={"value": []})])
    client = _registry(script, time).client(BASE)

    response = client.send("GET", "accounts")

    assert response.status_code == 200
    assert len(script.requests) == 3
    assert time.sleeps == [1.0, 2.0]  # base * 2**n, the full-jitter ceiling


def test_retry_after_seconds_is_honoured_exactly(time: FakeTime) -> None:
    script = Script([httpx.Response(429, headers={"Retry-After": "7"}), httpx.Response(204)])
    client = _registry(script, time).client(BASE)

    assert client.send("GET", "accounts").status_code == 204
    assert time.sleeps == [7.0]


def test_retry_after_as_an_http_date(time: FakeTime) -> None:
    when = format_datetime(EPOCH + timedelta(seconds=12), usegmt=True)
    script = Script([httpx.Response(503, headers={"Retry-After": when}), httpx.Response(200)])
    client = _registry(script, time).client(BASE)

    assert client.send("GET", "accounts").status_code == 200
    assert time.sleeps == [12.0]


@pytest.mark.parametrize("header", ["0", format_datetime(EPOCH - timedelta(hours=1), usegmt=True), "soon"])
def test_no_usable_retry_after_falls_back_to_backoff(time: FakeTime, header: str) -> None:
    script = Script([httpx.Response(429, headers={"Retry-After": header}), httpx.Response(200)])
    client = _registry(script, time).client(BASE)

    assert client.send("GET", "accounts").status_code == 200
    assert time.sleeps == [1.0]


def test_gives_up_when_the_next_wait_would_break_the_budget(time: FakeTime) -> None:
    policy = HttpPolicy(max_attempts=50, base_seconds=4.0, cap_seconds=16.0, budget_seconds=30.0)
    script = Script([httpx.Response(503)] * 4)
    client = _registry(script, time, policy).client(BASE)

    with pytest.raises(HubError) as raised:
        client.send("GET", "accounts")

    assert raised.value.error_class is ErrorClass.TRANSIENT
    assert "HTTP 503" in str(raised.value)
    assert time.sleeps == [4.0, 8.0, 16.0]  # a fourth wait of 16 s would end past 30 s
    assert time.elapsed <= policy.budget_seconds
    assert len(script.requests) == 4


def test_a_retry_after_beyond_the_budget_is_raised_with_the_hint(time: FakeTime) -> None:
    script = Script([httpx.Response(429, headers={"Retry-After": "300"})])
    client = _registry(script, time).client(BASE)

    with pytest.raises(ThrottledError) as raised:
        client.send("GET", "accounts")

    assert raised.value.retry_after == 300.0
    assert raised.value.error_class is ErrorClass.THROTTLED
    assert time.sleeps == []


def test_stops_after_max_attempts(time: FakeTime) -> None:
    policy = HttpPolicy(max_attempts=3, base_seconds=0.1, cap_seconds=0.1, budget_seconds=60)
    script = Script([httpx.Response(502)] * 3)
    client = _registry(script, time, policy).client(BASE)

    with pytest.raises(HubError):
        client.send("GET", "accounts")
    assert len(script.requests) == 3


def test_a_post_is_not_sent_again_after_a_read_timeout(time: FakeTime) -> None:
    script = Script([_raise(httpx.ReadTimeout)])
    client = _registry(script, time).client(BASE)

    with pytest.raises(HubError) as raised:
        client.send("POST", "$batch", content=b"--batch--")

    assert raised.value.error_class is ErrorClass.TRANSIENT
    assert "ReadTimeout" in str(raised.value)
    assert len(script.requests) == 1


@pytest.mark.parametrize("status", [500, 503, 504])
def test_a_patch_is_not_sent_again_after_a_server_error(time: FakeTime, status: int) -> None:
    script = Script([httpx.Response(status)])
    client = _registry(script, time).client(BASE)

    with pytest.raises(HubError):
        client.send("PATCH", "accounts(1)", content=b"{}")
    assert len(script.requests) == 1


@pytest.mark.parametrize("never_sent", [httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout])
def test_a_post_that_was_never_sent_is_sent(time: FakeTime, never_sent: type[httpx.TransportError]) -> None:
    script = Script([_raise(never_sent), httpx.Response(200)])
    client = _registry(script, time).client(BASE)

    assert client.send("POST", "$batch", content=b"x").status_code == 200
    assert len(script.requests) == 2


def test_a_post_refused_with_429_is_sent_again(time: FakeTime) -> None:
    script = Script([httpx.Response(429, headers={"Retry-After": "2"}), httpx.Response(200)])
    client = _registry(script, time).client(BASE)

    assert client.send("POST", "$batch", content=b"x").status_code == 200
    assert time.sleeps == [2.0]


def test_a_post_the_caller_calls_idempotent_is_retried_after_a_read_timeout(time: FakeTime) -> None:
    script = Script([_raise(httpx.ReadTimeout), httpx.Response(200)])
    client = _registry(script, time).client(BASE)

    assert client.send("POST", "$batch", content=b"x", idempotent=True).status_code == 200
    assert len(script.requests) == 2


def test_a_permanent_failure_is_returned_at_once_for_the_caller_to_read(time: FakeTime) -> None:
    script = Script([httpx.Response(412, json={"error": {"code": "", "message": "exists"}})])
    client = _registry(script, time).client(BASE)

    assert client.send("PATCH", "accounts(1)", content=b"{}").status_code == 412
    assert time.sleeps == []


def test_auth_headers_are_asked_for_on_every_attempt(time: FakeTime) -> None:
    script = Script([httpx.Response(503), httpx.Response(200)])
    client = _registry(script, time).client(BASE)
    tokens = iter(["first-token", "refreshed-token"])

    client.send("GET", "accounts", auth=lambda: {"Authorization": f"Bearer {next(tokens)}"})

    assert [r.headers["Authorization"] for r in script.requests] == [
        "Bearer first-token",
        "Bearer refreshed-token",
    ]


def test_the_token_never_reaches_the_error_or_the_log(
    time: FakeTime, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    script = Script([httpx.Response(503)] * 2)
    policy = HttpPolicy(max_attempts=2, base_seconds=0.1, cap_seconds=0.1)
    client = _registry(script, time, policy).client(BASE)

    with pytest.raises(HubError) as raised:
        client.send("GET", "accounts?$filter=x", auth=lambda: {"Authorization": "Bearer very-secret-token"})

    assert "very-secret-token" not in str(raised.value)
    assert "very-secret-token" not in caplog.text
    assert "$filter" not in str(raised.value)


def test_a_throttled_host_holds_every_client_of_that_host(time: FakeTime) -> None:
    script = Script(
        [httpx.Response(429, headers={"Retry-After": "9"}), httpx.Response(200), httpx.Response(200)]
    )
    registry = _registry(script, time)
    first = registry.client(BASE)
    other = registry.client(f"https://{HOST}/api/data/v9.1/")

    first.send("GET", "accounts")
    time.sleeps.clear()
    first.pause(5)
    other.send("GET", "contacts")

    assert time.sleeps == [5.0]


def test_the_breaker_opens_half_opens_and_closes(time: FakeTime) -> None:
    policy = HttpPolicy(max_attempts=1, breaker_threshold=3, breaker_cooldown_seconds=30)
    script = Script([httpx.Response(503)] * 3 + [httpx.Response(200)])
    registry = _registry(script, time, policy)
    client = registry.client(BASE)

    for _ in range(3):
        with pytest.raises(HubError):
            client.send("GET", "accounts")
    assert registry.breaker_states() == {HOST: "open"}

    time.advance(10)
    with pytest.raises(CircuitOpenError) as raised:
        client.send("GET", "accounts")
    assert raised.value.host == HOST
    assert raised.value.retry_after == pytest.approx(20.0)
    assert HOST in str(raised.value) and "20.0 s" in str(raised.value)
    assert len(script.requests) == 3  # the open circuit sent nothing

    time.advance(20)
    assert registry.breaker_states() == {HOST: "half_open"}
    assert client.send("GET", "accounts").status_code == 200
    assert registry.breaker_states() == {HOST: "closed"}


def test_a_failed_probe_opens_the_breaker_again(time: FakeTime) -> None:
    policy = HttpPolicy(max_attempts=1, breaker_threshold=2, breaker_cooldown_seconds=30)
    script = Script([httpx.Response(500), _raise(httpx.ConnectError), httpx.Response(503)])
    registry = _registry(script, time, policy)
    client = registry.client(BASE)

    for _ in range(2):
        with pytest.raises(HubError):
            client.send("GET", "accounts")
    time.advance(30)
    with pytest.raises(HubError):
        client.send("GET", "accounts")  # the probe
    assert registry.breaker_states() == {HOST: "open"}
    with pytest.raises(CircuitOpenError):
        client.send("GET", "accounts")
    assert len(script.requests) == 3


def test_4xx_and_429_do_not_trip_the_breaker(time: FakeTime) -> None:
    policy = HttpPolicy(max_attempts=1, breaker_threshold=2)
    script = Script([httpx.Response(404), httpx.Response(400), httpx.Response(429), httpx.Response(412)])
    registry = _registry(script, time, policy)
    client = registry.client(BASE)

    client.send("GET", "a")
    client.send("GET", "b")
    with pytest.raises(ThrottledError):
        client.send("GET", "c")
    client.send("GET", "d")
    assert registry.breaker_states() == {HOST: "closed"}


def test_one_client_per_base_url(time: FakeTime) -> None:
    registry = _registry(Script([]), time)
    assert registry.client(BASE) is registry.client(BASE.rstrip("/"))
    assert registry.client(BASE) is not registry.client(f"https://{HOST}/api/data/v9.1/")


def test_connection_refused_by_a_real_closed_port_is_retried_then_raised(time: FakeTime) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    policy = HttpPolicy(max_attempts=3, base_seconds=0.01, cap_seconds=0.01, connect_timeout_seconds=2)
    registry = HostRegistry(policy, clock=time.clock, sleep=time.sleep, now=time.now)
    try:
        with pytest.raises(HubError) as raised:
            registry.client(f"http://127.0.0.1:{port}/").send("POST", "jobs", content=b"{}")
    finally:
        registry.close()
    assert raised.value.error_class is ErrorClass.TRANSIENT
    assert "ConnectError" in str(raised.value)
    assert len(time.sleeps) == 2  # never sent, so even a POST was tried three times
