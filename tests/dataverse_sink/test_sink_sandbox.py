"""The same sink scenarios against the repo's sandbox Dataverse, signed in through its sandbox Entra ID.

Real process, real clock, real TLS with the local CA, real MSAL; the sandbox
throttles 30% of requests for the throttling scenario.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from shared.connectors.dataverse.client import DataverseClient, web_api_root
from shared.connectors.dataverse.sink import DataverseSink
from shared.http.hosts import HostRegistry
from shared.http.policy import HttpPolicy
from shared.pipeline.target import Outcome
from tests.dataverse_sink.scenarios import SCENARIOS, SITE_TARGET, SITES, HookedClient, World
from tests.fixtures.dataverse_sandbox import DataverseSandbox

pytestmark = pytest.mark.services


@pytest.fixture
def sandbox_world(dataverse_sandbox: DataverseSandbox) -> Iterator[World]:
    sandbox = dataverse_sandbox
    token = sandbox.hub_token()
    registry = HostRegistry(HttpPolicy(budget_seconds=60), verify=sandbox.ca_bundle)
    client = HookedClient(registry.client(web_api_root(sandbox.url)), token)

    def make_sink(dataverse: DataverseClient, **options: Any) -> DataverseSink:
        options.setdefault("max_parallel_batches", 4)
        options.setdefault("retry_budget_seconds", 60)
        options.setdefault("cap_seconds", 2)
        return DataverseSink(dataverse, **options)

    yield World(
        client,
        make_sink,
        sandbox.throttle,
        lambda: int(sandbox.stats()["batches"]),
        lambda: int(sandbox.stats()["throttled"]),
    )
    sandbox.throttle(0.0)
    registry.close()


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda scenario: scenario.__name__)
def test_scenario_against_the_sandbox(sandbox_world: World, scenario: Callable[[World], None]) -> None:
    scenario(sandbox_world)


def test_a_batch_applied_then_dropped_and_one_dropped_unsent_still_load_every_site_once(
    sandbox_world: World, dataverse_sandbox: DataverseSandbox
) -> None:
    sites = [
        {"bs_sitenumber": f"{n:04d}", "bs_sitename": f"Dropped site {n}", "bs_glstring": f"02-{n:04d}-000"}
        for n in range(6001, 8501)
    ]
    dataverse_sandbox.fault("dropped_after_apply", 1)
    dataverse_sandbox.fault("dropped_connection", 1)

    results = sandbox_world.sink().upsert(SITE_TARGET, sites)

    assert [result.outcome for result in results] == [Outcome.UPSERTED] * len(sites)
    assert {name: fault["struck"] for name, fault in dataverse_sandbox.faults().items()} == {
        "dropped_after_apply": 1,
        "dropped_connection": 1,
    }
    with dataverse_sandbox.client() as api:
        held = []
        page: str | None = f"{SITES}?$select=bs_sitenumber,bs_sitename,bs_glstring"
        while page:
            answer = api.get(page, headers={"Prefer": "odata.maxpagesize=5000"}).json()
            held += [
                (row["bs_sitenumber"], row["bs_sitename"], row["bs_glstring"]) for row in answer["value"]
            ]
            page = answer.get("@odata.nextLink")
    assert sorted(held) == sorted((s["bs_sitenumber"], s["bs_sitename"], s["bs_glstring"]) for s in sites)
