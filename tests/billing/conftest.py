"""A billing month planted in the sandbox Dataverse and sandbox GP, for every test in this folder."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from localdev.billing_month import Planted, reopen, seed_billing_month
from shared.connectors.dataverse.client import DataverseClient, web_api_root
from shared.http.hosts import HostRegistry
from shared.http.policy import HttpPolicy
from tests.fixtures.dataverse_sandbox import DataverseSandbox
from tests.fixtures.gp_sandbox import GpSandbox


@pytest.fixture
def dataverse(dataverse_sandbox: DataverseSandbox) -> Iterator[DataverseClient]:
    hosts = HostRegistry(HttpPolicy(budget_seconds=60), verify=dataverse_sandbox.ca_bundle)
    yield DataverseClient(hosts.client(web_api_root(dataverse_sandbox.url)), dataverse_sandbox.hub_token())
    hosts.close()


@pytest.fixture
def planted(dataverse: DataverseClient, gp_sandbox: GpSandbox) -> Iterator[Planted]:
    """The month; what it closed in GP is opened again afterwards (the GP sandbox lives for the session)."""
    month = seed_billing_month(dataverse, gp_sandbox.folder)
    yield month
    reopen(gp_sandbox.folder, month.period)
