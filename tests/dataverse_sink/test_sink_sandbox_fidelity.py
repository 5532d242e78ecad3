"""The hub's sink and client against the sandbox's collation and its injected faults (issue 20, points 4 and 6).

Each fault is armed for a known number of requests, so each test says exactly
what the hub met and proves it came out as the error table says: retried
in-process (transient, throttled), or raised with the class that reschedules or
sets the message aside.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from shared.connectors.dataverse.client import DataverseClient, web_api_root
from shared.connectors.dataverse.collation import KeyCollation
from shared.connectors.dataverse.sink import DataverseSink
from shared.errors import ERROR_ACTIONS, ErrorClass, HubError, Settle
from shared.http.hosts import HostRegistry
from shared.http.policy import HttpPolicy
from shared.pipeline.target import Outcome
from tests.dataverse_sink.scenarios import JOB_CODE_TARGET, JOB_CODES, SITE_TARGET, SITES, HookedClient
from tests.fixtures.dataverse_sandbox import DataverseSandbox

pytestmark = pytest.mark.services


@dataclass
class Hub:
    sandbox: DataverseSandbox
    client: HookedClient

    def sink(self, **options: Any) -> DataverseSink:
        return DataverseSink(self.client, retry_budget_seconds=30, cap_seconds=1, **options)


@pytest.fixture
def hub(dataverse_sandbox: DataverseSandbox) -> Iterator[Hub]:
    policy = HttpPolicy(
        budget_seconds=30, base_seconds=0.1, cap_seconds=1, read_timeout_seconds=1.0, breaker_threshold=20
    )
    registry = HostRegistry(policy, verify=dataverse_sandbox.ca_bundle)
    client = HookedClient(registry.client(web_api_root(dataverse_sandbox.url)), dataverse_sandbox.hub_token())
    yield Hub(dataverse_sandbox, client)
    registry.close()


def _sites(*numbers: int) -> list[dict[str, str]]:
    return [
        {"bs_sitenumber": f"S{number:04d}", "bs_sitename": f"Towne Park site {number}"} for number in numbers
    ]


def _rows(hub: Hub, entity_set: str, columns: list[str]) -> list[dict[str, object]]:
    return [{name: row[name] for name in columns} for row in hub.client.query(entity_set, columns)]


# -- collation (point 4) -------------------------------------------------------------------------


def test_a_key_differing_only_by_accent_updates_the_row(hub: Hub) -> None:
    hub.client.upsert(
        JOB_CODES, {"bs_jobcode": "CAFE-01"}, {"bs_jobtitle": "Cafe Attendant", "bs_name": "Cafe"}
    )

    results = hub.sink().upsert(
        JOB_CODE_TARGET, [{"bs_jobcode": "Café-01", "bs_jobtitle": "Cafe Attendant", "bs_name": "Café"}]
    )

    assert [result.outcome for result in results] == [Outcome.UPDATED]
    assert _rows(hub, JOB_CODES, ["bs_jobcode", "bs_name"]) == [{"bs_jobcode": "CAFE-01", "bs_name": "Café"}]


def test_records_differing_only_by_accent_are_one_write(hub: Hub) -> None:
    records = [
        {"bs_sitenumber": "Café", "bs_sitename": "first"},
        {"bs_sitenumber": "CAFE", "bs_sitename": "last"},
    ]

    results = hub.sink().upsert(SITE_TARGET, records)

    assert [result.outcome for result in results] == [Outcome.UPSERTED] * 2
    assert _rows(hub, SITES, ["bs_sitenumber", "bs_sitename"]) == [
        {"bs_sitenumber": "Café", "bs_sitename": "last"}
    ]


def test_on_an_accent_sensitive_environment_the_same_setting_keeps_them_apart(hub: Hub) -> None:
    hub.sandbox.settings(collation="CI_AS")
    hub.client.upsert(JOB_CODES, {"bs_jobcode": "CAFE-01"}, {"bs_jobtitle": "Cafe Attendant"})

    results = hub.sink(key_collation=KeyCollation.CI_AS).upsert(
        JOB_CODE_TARGET, [{"bs_jobcode": "Café-01", "bs_jobtitle": "Cafe Attendant"}]
    )

    assert [result.outcome for result in results] == [Outcome.CREATED]
    assert len(_rows(hub, JOB_CODES, ["bs_jobcode"])) == 2


# -- faults (point 6) ----------------------------------------------------------------------------


@pytest.mark.parametrize("fault", ["html_500", "unavailable_503", "batch_operation_429", "expired_token_401"])
def test_a_passing_fault_is_survived_and_every_record_loads(hub: Hub, fault: str) -> None:
    hub.sandbox.fault(fault, 1)

    results = hub.sink().upsert(SITE_TARGET, _sites(1, 2, 3))

    assert [result.outcome for result in results] == [Outcome.UPSERTED] * 3
    assert hub.sandbox.faults()[fault]["struck"] == 1
    assert len(_rows(hub, SITES, ["bs_sitenumber"])) == 3


def test_an_html_500_is_transient_and_its_page_does_not_become_the_error(hub: Hub) -> None:
    hub.sandbox.fault("html_500", 100)

    with pytest.raises(HubError) as raised:
        hub.client.upsert(SITES, {"bs_sitenumber": "S0001"}, {"bs_sitename": "x"})

    assert raised.value.error_class is ErrorClass.TRANSIENT
    assert ERROR_ACTIONS[raised.value.error_class].settle is Settle.RETRY_LATER
    assert hub.sandbox.faults()["html_500"]["struck"] == 6  # HttpPolicy.max_attempts
    assert "HTTP 500" in raised.value.message and "<html" not in raised.value.message.lower()


def test_a_413_is_not_retried_and_sets_the_batch_aside(hub: Hub) -> None:
    hub.sandbox.fault("too_large_413", 5)

    with pytest.raises(HubError) as raised:
        hub.sink().upsert(SITE_TARGET, _sites(1, 2))

    assert raised.value.error_class is ErrorClass.PERMANENT
    assert "413" in raised.value.message
    assert ERROR_ACTIONS[raised.value.error_class].settle is Settle.DEAD_LETTER
    assert hub.sandbox.faults()["too_large_413"]["struck"] == 1


def test_a_late_answer_to_an_idempotent_batch_is_sent_again(hub: Hub) -> None:
    hub.sandbox.fault("late_answer", 1, seconds=2.0)

    results = hub.sink().upsert(SITE_TARGET, _sites(1, 2))

    assert [result.outcome for result in results] == [Outcome.UPSERTED] * 2
    assert hub.sandbox.faults()["late_answer"]["struck"] == 1


def test_a_late_answer_to_a_guarded_write_is_rescheduled_not_resent(hub: Hub) -> None:
    # skip_if_changed reads the rows first; the batch after that read is the one answered late.
    hub.client.after_query.append(lambda: hub.sandbox.fault("late_answer", 1, seconds=2.0))

    with pytest.raises(HubError) as raised:
        hub.sink().upsert(JOB_CODE_TARGET, [{"bs_jobcode": "LATE-01", "bs_jobtitle": "Late"}])

    assert raised.value.error_class is ErrorClass.TRANSIENT
    assert ERROR_ACTIONS[raised.value.error_class].settle is Settle.RETRY_LATER
    assert hub.sandbox.faults()["late_answer"]["struck"] == 1
    time.sleep(1.5)  # the sandbox still carries the write out; the redelivery will find the row
    assert _rows(hub, JOB_CODES, ["bs_jobcode"]) == [{"bs_jobcode": "LATE-01"}]


def test_a_401_renews_the_token_once_then_is_an_auth_failure(hub: Hub) -> None:
    hub.sandbox.fault("expired_token_401", 2)

    with pytest.raises(HubError) as raised:
        hub.client.upsert(SITES, {"bs_sitenumber": "S0001"}, {"bs_sitename": "x"})

    assert raised.value.error_class is ErrorClass.AUTH
    assert hub.sandbox.faults()["expired_token_401"]["struck"] == 2
    hub.client.upsert(SITES, {"bs_sitenumber": "S0001"}, {"bs_sitename": "x"})


def test_a_token_that_cannot_be_renewed_is_an_auth_failure_at_once(hub: Hub) -> None:
    token = hub.sandbox.access_token()
    registry = HostRegistry(HttpPolicy(budget_seconds=10), verify=hub.sandbox.ca_bundle)
    client = DataverseClient(registry.client(web_api_root(hub.sandbox.url)), lambda: token)
    hub.sandbox.fault("expired_token_401", 1)

    with pytest.raises(HubError) as raised:
        client.upsert(SITES, {"bs_sitenumber": "S0001"}, {"bs_sitename": "x"})

    assert raised.value.error_class is ErrorClass.AUTH
    client.upsert(SITES, {"bs_sitenumber": "S0001"}, {"bs_sitename": "x"})
    registry.close()
