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
from tests.dataverse_sink.scenarios import SCENARIOS, HookedClient, World
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
