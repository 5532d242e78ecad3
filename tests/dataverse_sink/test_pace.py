"""The sink's pace against the sandbox's service protection limits, and its arithmetic on its own."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from shared.connectors.dataverse.client import DataverseClient, web_api_root
from shared.connectors.dataverse.pace import LoadPace
from shared.connectors.dataverse.sink import DataverseSink, DataverseTarget
from shared.http.hosts import HostRegistry
from shared.http.policy import HttpPolicy
from shared.pipeline.target import Outcome
from tests.fixtures.dataverse_sandbox import DataverseSandbox

TARGET = DataverseTarget(entity_set="bs_jobcodesbysites", alternate_key=("bs_sitenumber", "bs_jobcode"))


def _rates(count: int) -> list[dict[str, Any]]:
    return [
        {"bs_sitenumber": f"{n % 50:04d}", "bs_jobcode": f"J{n:05d}", "bs_averagehourlyrate": 15.0}
        for n in range(count)
    ]


def test_execution_time_and_concurrency_halve_the_pace_once_per_answered_batch() -> None:
    pace = LoadPace(max_batch_size=1000, max_parallel=4, calm_batches=3)
    pace.throttled("0x80072326")
    pace.throttled("0x80072326")  # sent at the old pace, before any batch was answered
    assert (pace.batch_size, pace.parallel) == (500, 2)
    pace.answered()
    pace.throttled("0x80072321")
    assert (pace.batch_size, pace.parallel) == (250, 1)


def test_the_request_limit_leaves_the_pace_alone_but_delays_its_growth() -> None:
    pace = LoadPace(max_batch_size=1000, max_parallel=4, calm_batches=2)
    pace.throttled("0x80072326")
    pace.answered()
    pace.throttled("0x80072322")
    assert (pace.batch_size, pace.parallel) == (500, 2)
    pace.answered()
    assert (pace.batch_size, pace.parallel) == (500, 2)  # the request limit reset the calm count
    pace.answered()
    assert (pace.batch_size, pace.parallel) == (625, 3)  # one step: an eighth of 1000, one more at once


def test_the_pace_grows_back_to_the_maxima_and_no_further() -> None:
    pace = LoadPace(max_batch_size=100, max_parallel=2, calm_batches=1)
    pace.throttled("0x80072321")
    for _ in range(20):
        pace.answered()
    assert (pace.batch_size, pace.parallel) == (100, 2)


@pytest.fixture
def dataverse(dataverse_sandbox: DataverseSandbox) -> Iterator[DataverseClient]:
    hosts = HostRegistry(HttpPolicy(budget_seconds=60), verify=dataverse_sandbox.ca_bundle)
    yield DataverseClient(hosts.client(web_api_root(dataverse_sandbox.url)), dataverse_sandbox.hub_token())
    dataverse_sandbox.throttle(0.0)
    hosts.close()


@pytest.mark.services
def test_the_sink_sends_fewer_batches_at_once_when_dataverse_counts_too_many_in_flight(
    dataverse: DataverseClient, dataverse_sandbox: DataverseSandbox
) -> None:
    dataverse_sandbox.throttle(concurrent_limit=2, cost_ms_per_operation=5)  # 250 ms a batch of 50
    sink = DataverseSink(dataverse, max_parallel_batches=4, batch_size=50, cap_seconds=1)

    results = sink.upsert(TARGET, _rates(400))

    assert [result.outcome for result in results] == [Outcome.UPSERTED] * 400
    assert (sink.pace.batch_size, sink.pace.parallel) == (25, 2)
    assert set(dataverse_sandbox.stats()["throttled_by_code"]) == {"0x80072326"}


@pytest.mark.services
def test_the_sink_sends_smaller_batches_when_dataverse_counts_too_much_execution_time(
    dataverse: DataverseClient, dataverse_sandbox: DataverseSandbox
) -> None:
    # 1 s of execution a batch of 100, 2 s allowed per 3 s: the third batch is refused.
    dataverse_sandbox.throttle(execution_ms_limit=2000, cost_ms_per_operation=10, window_seconds=3)
    sink = DataverseSink(dataverse, max_parallel_batches=2, batch_size=100, cap_seconds=1)

    results = sink.upsert(TARGET, _rates(600))

    assert [result.outcome for result in results] == [Outcome.UPSERTED] * 600
    # Halved at least once; again if a later window filled too, as timing on a busy machine decides.
    assert sink.pace.batch_size <= 50 and sink.pace.parallel == 1
    assert set(dataverse_sandbox.stats()["throttled_by_code"]) == {"0x80072321"}


@pytest.mark.services
def test_the_sink_keeps_its_batches_whole_when_only_the_number_of_requests_is_limited(
    dataverse: DataverseClient, dataverse_sandbox: DataverseSandbox
) -> None:
    dataverse_sandbox.throttle(limit=2, window_seconds=2)
    sink = DataverseSink(dataverse, max_parallel_batches=2, batch_size=100, cap_seconds=1)

    results = sink.upsert(TARGET, _rates(600))

    assert [result.outcome for result in results] == [Outcome.UPSERTED] * 600
    assert (sink.pace.batch_size, sink.pace.parallel) == (100, 2)
    assert dataverse_sandbox.stats()["throttled_by_code"]["0x80072322"] > 0
