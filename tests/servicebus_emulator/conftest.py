"""Clients and test configs for the emulator tests; the emulator itself comes from tests/fixtures."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from azure.servicebus import ServiceBusClient

from tests.fixtures.servicebus_emulator import ServiceBusEmulator
from tests.servicebus_emulator.namespace import TEST_CONFIG, connect


@pytest.fixture
def test_config(tmp_path: Path) -> Path:
    path = tmp_path / "config.json"
    path.write_text(json.dumps(TEST_CONFIG), encoding="utf-8")
    return path


@pytest.fixture
def short_lock_emulator(
    servicebus_emulator_factory: Callable[..., ServiceBusEmulator], test_config: Path
) -> ServiceBusEmulator:
    """An emulator whose ``short-lock`` queue locks for 3 s and dead-letters at the 3rd delivery."""
    return servicebus_emulator_factory(test_config)


@pytest.fixture
def client(servicebus_emulator: ServiceBusEmulator) -> Iterator[ServiceBusClient]:
    """A client of an emulator serving the shipped config (the app's entities)."""
    with connect(servicebus_emulator) as connected:
        yield connected


@pytest.fixture
def short_lock_client(short_lock_emulator: ServiceBusEmulator) -> Iterator[ServiceBusClient]:
    with connect(short_lock_emulator) as connected:
        yield connected
