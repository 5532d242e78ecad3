"""The revenue submissions' fixtures: two sites of the test's own, the hub in-process, and on the host."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from localdev import services
from localdev.sandbox_sql import SandboxSummary
from shared.composition import Hub
from tests.fixtures.dataverse_sandbox import DataverseSandbox
from tests.fixtures.gp_sandbox import GpSandbox
from tests.fixtures.hub_host import HubHost, hub_settings, start_hub_host
from tests.fixtures.servicebus_emulator import ServiceBusEmulator
from tests.revenue_submissions.rss_world import (
    GraphControls,
    RssSite,
    graph,
    in_process_hub,
    remove_sites,
    rss_settings,
    seed_sites,
)

__all__ = ["graph"]


@pytest.fixture
def rss_sites(hub_sql_summary: SandboxSummary, graph: GraphControls) -> Iterator[list[RssSite]]:
    """Two sites with their Revenue lists in the sandbox Graph and their month's figures in the EDW."""
    sites = seed_sites(hub_sql_summary, 2, seed=0)
    for site in sites:
        graph.add_site(site.name)
    yield sites
    remove_sites(hub_sql_summary.folder, sites)


@pytest.fixture
def rss_host(
    azurite: str,
    servicebus_emulator: ServiceBusEmulator,
    dataverse_sandbox: DataverseSandbox,
    hub_sql_sandbox: str,
    gp_sandbox_server: GpSandbox,
    rss_sites: list[RssSite],
    tmp_path: Path,
) -> Iterator[HubHost]:
    """The local host watching the two lists, its webhook the notification URL Graph calls."""
    port = services.free_port()
    base = hub_settings(azurite, servicebus_emulator, dataverse_sandbox, hub_sql_sandbox, gp_sandbox_server)
    settings = rss_settings(
        base, dataverse_sandbox, rss_sites, f"http://127.0.0.1:{port}/api/graph/notifications"
    )
    host = start_hub_host(azurite, settings, tmp_path, port)
    try:
        yield host
    finally:
        host.running.stop()


@pytest.fixture
def rss_hub(rss_host: HubHost) -> Iterator[Hub]:
    """The hub in-process with the host's settings: the timers' work, run when the test says."""
    hub = in_process_hub(rss_host.settings)
    try:
        yield hub
    finally:
        hub.service_bus.close()
        hub.for_api.service_bus.close()
        hub.hosts.close()


@pytest.fixture
def quiet_hub(
    azurite: str,
    servicebus_emulator: ServiceBusEmulator,
    dataverse_sandbox: DataverseSandbox,
    hub_sql_sandbox: str,
    gp_sandbox_server: GpSandbox,
    rss_sites: list[RssSite],
) -> Iterator[Hub]:
    """The hub in-process and no host: what the sweep does when no notification ever comes."""
    base = hub_settings(azurite, servicebus_emulator, dataverse_sandbox, hub_sql_sandbox, gp_sandbox_server)
    hub = in_process_hub(rss_settings(base, dataverse_sandbox, rss_sites, "http://127.0.0.1:9/unreachable"))
    try:
        yield hub
    finally:
        hub.service_bus.close()
        hub.for_api.service_bus.close()
        hub.hosts.close()
