"""The sink and client against the strict Web API double: the shared scenarios, then protocol details."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from shared.connectors.dataverse.client import DataverseClient, web_api_root
from shared.connectors.dataverse.sink import ConflictPolicy, DataverseSink, DataverseTarget
from shared.deadline import deadline
from shared.errors import (
    ERROR_ACTIONS,
    AlreadyExistsError,
    ConflictError,
    ErrorClass,
    HubError,
    NotFoundError,
    Settle,
    ThrottledError,
)
from shared.http.hosts import HostRegistry
from shared.http.policy import HttpPolicy
from shared.pipeline.target import Outcome
from tests.dataverse_sink.conftest import JOB_CODES, JOBS_BY_SITE, SITES
from tests.dataverse_sink.scenarios import SCENARIOS, SITE_TARGET, HookedClient, World
from tests.dataverse_sink.webapi_double import ORG, TOKEN, WebApiDouble
from tests.http.fake_time import FakeTime


@pytest.fixture
def world(double: WebApiDouble, registry: HostRegistry, fake_time: FakeTime) -> World:
    def make_sink(client: DataverseClient, **options: Any) -> DataverseSink:
        options.setdefault("max_parallel_batches", 3)
        return DataverseSink(client, clock=fake_time.clock, now=fake_time.now, **options)

    def throttle(fraction: float) -> None:
        double.throttle_fraction = fraction

    client = HookedClient(registry.client(web_api_root(ORG)), lambda: TOKEN)
    return World(client, make_sink, throttle, lambda: len(double.batches()), lambda: double.throttled)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda scenario: scenario.__name__)
def test_scenario(world: World, scenario: Callable[[World], None]) -> None:
    scenario(world)


def _sites(first: int, count: int) -> list[dict[str, Any]]:
    return [{"bs_sitenumber": f"{n:04d}", "bs_sitename": f"Site {n}"} for n in range(first, first + count)]


def test_only_the_throttled_operations_are_sent_again_after_retry_after(
    double: WebApiDouble, client: DataverseClient, fake_time: FakeTime
) -> None:
    double.throttle_fraction = 0.3
    sink = DataverseSink(client, max_parallel_batches=1, clock=fake_time.clock, now=fake_time.now)

    results = sink.upsert(SITE_TARGET, _sites(1, 500))

    assert {result.outcome for result in results} == {Outcome.UPSERTED}
    assert sorted(set(double.executed.values())) == [1]  # every row written exactly once
    throttled = double.sent_operations - 500
    assert throttled > 100  # about 30% the first time round, fewer after
    sizes = [seen.operations for seen in double.batches()]
    assert sizes[0] == 500
    assert all(later < earlier for earlier, later in itertools.pairwise(sizes))
    assert sum(sizes) == double.sent_operations
    assert fake_time.sleeps and set(fake_time.sleeps) == {2.0}  # Dataverse's Retry-After, as sent


def test_a_throttled_batch_is_sent_again_after_retry_after(
    double: WebApiDouble, sink: DataverseSink, fake_time: FakeTime
) -> None:
    double.batch_throttles = ["5"]

    results = sink.upsert(SITE_TARGET, _sites(1, 10))

    assert {result.outcome for result in results} == {Outcome.UPSERTED}
    assert len(double.batches()) == 2
    assert fake_time.sleeps == [5.0]


def test_throttling_past_the_budget_raises_for_redelivery(
    double: WebApiDouble, client: DataverseClient, fake_time: FakeTime
) -> None:
    double.throttle_fraction = 1.0
    sink = DataverseSink(
        client, max_parallel_batches=1, retry_budget_seconds=9, clock=fake_time.clock, now=fake_time.now
    )

    with pytest.raises(ThrottledError) as raised:
        sink.upsert(SITE_TARGET, _sites(1, 20))

    error = raised.value
    assert error.error_class is ErrorClass.THROTTLED
    assert ERROR_ACTIONS[error.error_class].settle is Settle.RETRY_LATER
    assert error.retry_after == 2.0
    assert error.context["entity"] == SITES
    assert "20 writes" in str(error)
    assert fake_time.elapsed <= 9


def test_a_batch_that_keeps_failing_raises_a_transient_error(
    double: WebApiDouble, sink: DataverseSink
) -> None:
    double.batch_failures = [503] * 10

    with pytest.raises(HubError) as raised:
        sink.upsert(SITE_TARGET, _sites(1, 3))

    assert raised.value.error_class is ErrorClass.TRANSIENT
    assert "HTTP 503" in str(raised.value)
    assert double.rows(SITES) == []


def test_a_refused_token_is_an_auth_error(double: WebApiDouble, registry: HostRegistry) -> None:
    client = DataverseClient(registry.client(web_api_root(ORG)), lambda: "expired-or-foreign-token")

    with pytest.raises(HubError) as raised:
        DataverseSink(client).upsert(SITE_TARGET, _sites(1, 1))

    assert raised.value.error_class is ErrorClass.AUTH
    assert "expired-or-foreign-token" not in str(raised.value)


def test_a_value_dataverse_refuses_is_rejected_with_its_code(sink: DataverseSink) -> None:
    records = [*_sites(1, 2), {"bs_sitenumber": "0003", "bs_sitename": "x" * 101}]

    results = sink.upsert(SITE_TARGET, records)

    assert [result.outcome for result in results] == [Outcome.UPSERTED, Outcome.UPSERTED, Outcome.REJECTED]
    rejected = results[2]
    assert (rejected.status, rejected.error_code) == (400, "0x80044331")
    assert rejected.message is not None and "bs_sitename" in rejected.message


def test_a_batch_that_stops_at_the_first_error_has_the_rest_sent_again(
    double: WebApiDouble, sink: DataverseSink
) -> None:
    double.honour_continue_on_error = False
    records = [{"bs_sitenumber": "0001", "bs_sitename": "x" * 101}, *_sites(2, 4)]

    results = sink.upsert(SITE_TARGET, records)

    assert [result.outcome for result in results] == [Outcome.REJECTED] + [Outcome.UPSERTED] * 4
    assert [seen.operations for seen in double.batches()] == [5, 4]


def test_parallel_batches_stay_within_the_limit(double: WebApiDouble, client: DataverseClient) -> None:
    double.hold_seconds = 0.05

    results = DataverseSink(client, max_parallel_batches=3, batch_size=10).upsert(SITE_TARGET, _sites(1, 60))

    assert len(results) == 60
    assert len(double.batches()) == 6
    assert 2 <= double.max_in_flight <= 3


def test_skip_if_changed_sends_conditions_and_only_the_changed_columns(
    double: WebApiDouble, sink: DataverseSink
) -> None:
    double.seed(
        JOB_CODES, [{"bs_jobcode": "VALET-01", "bs_jobtitle": "Valet", "bs_name": "Valet", "bs_rate": 18.5}]
    )
    etag = f'W/"{double.tables[JOB_CODES].rows[("valet-01",)]["_version"]}"'
    target = DataverseTarget(
        JOB_CODES,
        ("bs_jobcode",),
        conflict_policy=ConflictPolicy.SKIP_IF_CHANGED,
        keep_dataverse_fields=("bs_jobtitle",),
    )

    sink.upsert(
        target,
        [
            {"bs_jobcode": "VALET-01", "bs_jobtitle": "Valet Attendant", "bs_name": "Valet", "bs_rate": 19.0},
            {"bs_jobcode": "CASH-01", "bs_jobtitle": "Cashier", "bs_name": "Cashier", "bs_rate": 17.0},
        ],
    )

    writes = {
        resource: (headers, body) for method, resource, headers, body in double.writes if method == "PATCH"
    }
    update_headers, update_body = writes["bs_jobcodes(bs_jobcode='VALET-01')"]
    assert update_headers["if-match"] == etag
    assert update_body == {"bs_rate": 19.0}
    assert "bs_jobcodes(bs_jobcode='CASH-01')" not in writes
    [(create_headers, create_body)] = [
        (headers, body) for method, resource, headers, body in double.writes if method == "POST"
    ]
    assert "if-none-match" not in create_headers and "if-match" not in create_headers
    assert create_body == {
        "bs_jobcode": "CASH-01",
        "bs_jobtitle": "Cashier",
        "bs_name": "Cashier",
        "bs_rate": 17.0,
    }


def test_composite_keys_and_quotes_are_escaped_as_odata_literals(
    double: WebApiDouble, sink: DataverseSink
) -> None:
    target = DataverseTarget(JOBS_BY_SITE, ("bs_sitenumber", "bs_jobcode"))
    record = {"bs_sitenumber": "0123", "bs_jobcode": "O'BRIEN #2", "bs_averagehourlyrate": 21.25}

    results = sink.upsert(target, [record])

    assert results[0].outcome == Outcome.UPSERTED and results[0].key == ("0123", "O'BRIEN #2")
    assert double.row(JOBS_BY_SITE, "0123", "O'BRIEN #2") is not None
    assert double.writes[0][1] == "bs_jobcodesbysites(bs_sitenumber='0123',bs_jobcode='O''BRIEN #2')"


def test_change_tracking_returns_changes_deletes_and_the_next_link(
    double: WebApiDouble, client: DataverseClient
) -> None:
    double.seed(SITES, _sites(1, 7))
    first = client.track_changes(SITES, ["bs_sitenumber", "bs_sitename"], page_size=3)
    assert sorted(row["bs_sitenumber"] for row in first.changed) == [f"{n:04d}" for n in range(1, 8)]
    assert first.deleted_ids == [] and "$deltatoken=" in first.delta_link

    removed_id = double.row(SITES, "0002")["bs_mastercustomersiteid"]  # type: ignore[index]
    double.edit(SITES, ("0001",), {"bs_sitename": "Site 1 renamed"})
    double.remove(SITES, ("0002",))
    double.seed(SITES, _sites(8, 1))
    second = client.track_changes(SITES, ["bs_sitenumber", "bs_sitename"], delta_link=first.delta_link)

    assert sorted(row["bs_sitenumber"] for row in second.changed) == ["0001", "0008"]
    assert second.deleted_ids == [removed_id]
    third = client.track_changes(SITES, ["bs_sitenumber"], delta_link=second.delta_link)
    assert (third.changed, third.deleted_ids) == ([], [])


def test_single_writes_raise_typed_errors(double: WebApiDouble, client: DataverseClient) -> None:
    double.seed(JOB_CODES, [{"bs_jobcode": "VALET-01", "bs_jobtitle": "Valet"}])
    key = {"bs_jobcode": "VALET-01"}

    assert client.upsert(JOB_CODES, key, {"bs_jobtitle": "Valet Attendant"}) == (
        "https://towneparkdev.crm.dynamics.com/api/data/v9.2/bs_jobcodes(bs_jobcode='VALET-01')"
    )
    with pytest.raises(AlreadyExistsError, match="matching key values already exists"):
        client.upsert(JOB_CODES, key, {"bs_jobtitle": "x"}, if_none_match=True)
    with pytest.raises(ConflictError, match="RowVersion"):
        client.upsert(JOB_CODES, key, {"bs_jobtitle": "x"}, if_match='W/"1"')
    with pytest.raises(NotFoundError):
        client.upsert(JOB_CODES, {"bs_jobcode": "NOPE"}, {"bs_jobtitle": "x"}, if_match="*")
    client.delete(JOB_CODES, key)
    with pytest.raises(NotFoundError, match="Does Not Exist"):
        client.delete(JOB_CODES, key)


def test_keys_that_differ_only_in_case_address_one_row(double: WebApiDouble, sink: DataverseSink) -> None:
    records = [
        {"bs_sitenumber": "ab12", "bs_sitename": "first"},
        {"bs_sitenumber": "AB12", "bs_sitename": "second"},
    ]

    results = sink.upsert(SITE_TARGET, records)

    assert [(result.key, result.outcome) for result in results] == [
        (("ab12",), Outcome.UPSERTED),
        (("AB12",), Outcome.UPSERTED),
    ]
    assert [seen.operations for seen in double.batches()] == [1]
    assert [row["bs_sitename"] for row in double.rows(SITES)] == ["second"]


def test_a_column_the_table_does_not_have_stops_the_load_as_a_config_error(sink: DataverseSink) -> None:
    records = [{"bs_sitenumber": "0001", "bs_sitename": "Site 1", "bs_sitenmae": "typo in the mapping"}]

    with pytest.raises(HubError) as raised:
        sink.upsert(SITE_TARGET, records)

    assert raised.value.error_class is ErrorClass.CONFIG
    assert "bs_sitenmae" in str(raised.value) and "0x80060888" in str(raised.value)


def test_throttle_waits_and_request_time_outs_keep_to_the_works_deadline(
    double: WebApiDouble, fake_time: FakeTime
) -> None:
    read_timeouts: list[float] = []

    def recorded(request: httpx.Request) -> httpx.Response:
        read_timeouts.append(request.extensions["timeout"]["read"])
        return double.handle(request)

    hosts = HostRegistry(
        HttpPolicy(max_attempts=4, base_seconds=0.5, cap_seconds=4.0, budget_seconds=60.0),
        clock=fake_time.clock,
        sleep=fake_time.sleep,
        now=fake_time.now,
        transport=httpx.MockTransport(recorded),
    )
    client = DataverseClient(hosts.client(web_api_root(ORG)), lambda: TOKEN)
    double.throttle_fraction = 1.0
    sink = DataverseSink(
        client, max_parallel_batches=1, batch_size=10, clock=fake_time.clock, now=fake_time.now
    )

    with deadline(5, clock=fake_time.clock), pytest.raises(ThrottledError) as raised:
        sink.upsert(SITE_TARGET, _sites(1, 20))

    assert "20 writes" in str(raised.value)
    # Dataverse's Retry-After is 2 s: two waits, then a third would end at the deadline (budget: 240 s).
    assert fake_time.sleeps == [2.0, 2.0]
    # Batches go out from the sink's pool threads, and still under the deadline: 5 s, 3 s, then 1 s left.
    assert read_timeouts == [5.0, 5.0, 3.0, 3.0, 1.0, 1.0]
    hosts.close()
