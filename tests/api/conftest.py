"""The hub the API tests build their API from: the app's composition over the test module's ``world``."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from shared.composition import Hub
from tests.api.api_world import hub_over
from tests.fixtures.servicebus_emulator import ServiceBusEmulator
from tests.pipeline.world import World


@pytest.fixture
def hub(world: World, azurite: str, servicebus_emulator: ServiceBusEmulator) -> Iterator[Hub]:
    built = hub_over(world, azurite, servicebus_emulator)
    yield built
    built.service_bus.close()
    built.hosts.close()
