"""The app's own triggers called in-process with ``azure.functions`` objects, wired to test services.

``app_hub`` points the composition root (``shared.composition.hub``) at a
dedicated Service Bus emulator (so a test may stop it) and the session's
Azurite, sandbox Dataverse, sandbox SQL and sandbox GP, exactly as the
Functions host would through app settings.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import azure.functions as func
import pytest
from azure.servicebus import ServiceBusClient, ServiceBusReceiveMode

from localdev.functions_host.invocation import InvocationContext
from localdev.functions_host.servicebus_trigger import functions_message
from shared import composition
from shared import settings as app_settings
from shared.api import wiring
from shared.composition import Hub
from tests.fixtures.dataverse_sandbox import DataverseSandbox
from tests.fixtures.gp_sandbox import GpSandbox
from tests.fixtures.hub_host import hub_settings
from tests.fixtures.servicebus_emulator import ServiceBusEmulator


@dataclass
class AppHub:
    hub: Hub
    emulator: ServiceBusEmulator

    def take(self, queue: str, max_count: int = 50, wait: float = 3.0) -> list[func.ServiceBusMessage]:
        """Every message waiting on ``queue``, removed from it and shaped as the trigger receives it."""
        with (
            ServiceBusClient.from_connection_string(self.emulator.connection_string) as client,
            client.get_queue_receiver(
                queue, receive_mode=ServiceBusReceiveMode.RECEIVE_AND_DELETE, max_wait_time=wait
            ) as receiver,
        ):
            return [functions_message(message) for message in receiver.receive_messages(max_count, wait)]


def invoked(function: str = "test") -> func.Context:
    """The ``context`` the Functions worker passes an invocation: its own id, as the local host gives it."""
    return InvocationContext(str(uuid.uuid4()), function, ".")


def registered(blueprint: func.Blueprint, trigger: str) -> dict[str, Callable[..., Any]]:
    """The functions of ``blueprint`` with a ``trigger`` binding (``httpTrigger``, ``timerTrigger``), by the
    name the Python worker indexes them under."""
    found = {}
    for builder in blueprint._function_builders:
        function = builder._function
        if function.get_trigger().get_binding_name() == trigger:
            found[function.get_function_name()] = function.get_user_function()
    return found


def _clear_caches() -> None:
    composition.hub.cache_clear()
    app_settings.hub_settings.cache_clear()
    wiring.hub_api.cache_clear()


@pytest.fixture
def app_hub(
    azurite: str,
    servicebus_emulator_factory: Callable[..., ServiceBusEmulator],
    dataverse_sandbox: DataverseSandbox,
    hub_sql_sandbox: str,
    gp_sandbox_server: GpSandbox,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[AppHub]:
    emulator = servicebus_emulator_factory()
    settings = hub_settings(azurite, emulator, dataverse_sandbox, hub_sql_sandbox, gp_sandbox_server)
    for name, value in settings.items():
        monkeypatch.setenv(name, value)
    _clear_caches()
    composition.hub().prepare_storage()
    try:
        yield AppHub(composition.hub(), emulator)
    finally:
        composition.hub().service_bus.close()
        _clear_caches()
