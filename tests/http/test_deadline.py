"""One deadline from the trigger down: retries, throttle waits and time-outs never reach past it."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from shared.deadline import carried, deadline, remaining
from shared.errors import ErrorClass, HubError, ThrottledError
from shared.http.hosts import HostRegistry
from shared.http.policy import HttpPolicy
from tests.http.fake_time import FakeTime
from tests.http.test_resilient_client import BASE, Script


@pytest.fixture
def time() -> FakeTime:
    return FakeTime()


def _client(script: Script, time: FakeTime) -> HostRegistry:
    return HostRegistry(
        HttpPolicy(max_attempts=6, base_seconds=1.0, cap_seconds=8.0, budget_seconds=60.0),
        clock=time.clock,
        sleep=time.sleep,
        now=time.now,
        draw=lambda low, high: high,  # the ceiling, so the exact waits can be asserted
        transport=httpx.MockTransport(script),
    )


def test_a_deadline_is_seen_inside_and_only_shortened_by_an_inner_one(time: FakeTime) -> None:
    assert remaining() is None
    with deadline(30, clock=time.clock):
        time.advance(10)
        assert remaining() == 20
        with deadline(60, clock=time.clock):
            assert remaining() == 20  # the outer deadline is sooner: it stands
        with deadline(5, clock=time.clock):
            assert remaining() == 5
        assert remaining() == 20
    assert remaining() is None


def test_carried_work_keeps_the_callers_deadline_in_a_pool_thread(time: FakeTime) -> None:
    seen: dict[str, float | None] = {}

    def note(name: str) -> None:
        seen[name] = remaining()

    with deadline(12, clock=time.clock), ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(carried(note), ["carried"]))
        list(pool.map(note, ["plain"]))
    worker = threading.Thread(target=carried(note), args=["after"])
    worker.start()
    worker.join()
    assert seen == {"carried": 12.0, "plain": None, "after": None}


def test_retries_stop_before_a_wait_would_pass_the_deadline(time: FakeTime) -> None:
    # Without a deadline this call waits 1, 2, 4 and 8 s (budget 60 s): six attempts.
    script = Script([httpx.Response(503)] * 3)
    client = _client(script, time).client(BASE)

    with deadline(5, clock=time.clock), pytest.raises(HubError) as raised:
        client.send("GET", "accounts")

    assert raised.value.error_class is ErrorClass.TRANSIENT
    assert "HTTP 503" in str(raised.value)
    assert time.sleeps == [1.0, 2.0]  # the next wait, 4 s, would end after the deadline (3 + 4 > 5)
    assert len(script.requests) == 3


def test_without_a_deadline_the_same_call_spends_its_budget(time: FakeTime) -> None:
    script = Script([httpx.Response(503)] * 6)
    client = _client(script, time).client(BASE)

    with pytest.raises(HubError):
        client.send("GET", "accounts")

    assert time.sleeps == [1.0, 2.0, 4.0, 8.0, 8.0]


def test_a_retry_after_past_the_deadline_is_not_waited_for(time: FakeTime) -> None:
    script = Script([httpx.Response(429, headers={"Retry-After": "30"})])
    client = _client(script, time).client(BASE)

    with deadline(20, clock=time.clock):
        with pytest.raises(ThrottledError) as first:
            client.send("GET", "accounts")
        with pytest.raises(ThrottledError) as held:  # the host's pause outlasts the deadline: nothing sent
            client.send("GET", "accounts")

    assert first.value.retry_after == 30.0
    assert "past the work's deadline" in str(held.value)
    assert len(script.requests) == 1
    assert time.sleeps == []


def test_each_request_time_out_is_cut_to_the_time_left(time: FakeTime) -> None:
    timeouts: list[dict[str, float]] = []

    def answer(request: httpx.Request) -> httpx.Response:
        timeouts.append(request.extensions["timeout"])
        return httpx.Response(204)

    client = _client(Script([answer, answer]), time).client(BASE)
    client.send("GET", "accounts")
    with deadline(4.5, clock=time.clock):
        client.send("GET", "accounts")

    assert timeouts == [
        {"connect": 10.0, "read": 120.0, "write": 120.0, "pool": 30.0},
        {"connect": 4.5, "read": 4.5, "write": 4.5, "pool": 4.5},
    ]


def test_a_call_after_the_deadline_is_not_sent_and_raises_transient(time: FakeTime) -> None:
    client = _client(Script([]), time).client(BASE)

    with deadline(2, clock=time.clock):
        time.advance(3)
        with pytest.raises(HubError) as raised:
            client.send("GET", "accounts")

    assert raised.value.error_class is ErrorClass.TRANSIENT
    assert "deadline has passed" in str(raised.value)
