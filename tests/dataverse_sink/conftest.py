"""A Dataverse client and sink wired to the Web API double, with a clock that moves only when they wait."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from shared.connectors.dataverse.client import DataverseClient, web_api_root
from shared.connectors.dataverse.sink import DataverseSink
from shared.http.hosts import HostRegistry
from shared.http.policy import HttpPolicy
from tests.dataverse_sink.webapi_double import ORG, TOKEN, WebApiDouble
from tests.http.fake_time import FakeTime

SITES = "bs_mastercustomersites"
JOB_CODES = "bs_jobcodes"
JOBS_BY_SITE = "bs_jobcodesbysites"


@pytest.fixture
def double() -> Iterator[WebApiDouble]:
    api = WebApiDouble()
    api.add_table(
        SITES,
        ("bs_sitenumber",),
        max_lengths={"bs_sitename": 100},
        columns=frozenset({"bs_sitenumber", "bs_sitename", "bs_glstring"}),
    )
    api.add_table(JOB_CODES, ("bs_jobcode",))
    api.add_table(JOBS_BY_SITE, ("bs_sitenumber", "bs_jobcode"))
    yield api
    assert api.violations == [], "the client broke the Web API protocol"


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def registry(double: WebApiDouble, fake_time: FakeTime) -> Iterator[HostRegistry]:
    hosts = HostRegistry(
        HttpPolicy(max_attempts=4, base_seconds=0.5, cap_seconds=4.0, budget_seconds=60.0),
        clock=fake_time.clock,
        sleep=fake_time.sleep,
        now=fake_time.now,
        transport=double.transport(),
    )
    yield hosts
    hosts.close()


@pytest.fixture
def client(registry: HostRegistry) -> DataverseClient:
    return DataverseClient(registry.client(web_api_root(ORG)), lambda: TOKEN)


@pytest.fixture
def sink(client: DataverseClient, fake_time: FakeTime) -> DataverseSink:
    return DataverseSink(
        client,
        max_parallel_batches=3,
        retry_budget_seconds=120.0,
        clock=fake_time.clock,
        now=fake_time.now,
    )
