"""``GET /api/health`` on the real app: 200 when every dependency answers, 503 naming the one that does not."""

from __future__ import annotations

import pytest

from tests.fixtures.hub_host import HubHost
from tests.fixtures.servicebus_emulator import ServiceBusEmulator


def test_health_is_anonymous_and_ok_when_everything_answers(hub_host: HubHost) -> None:
    with hub_host.client(key=None) as client:
        response = client.get("/api/health")

    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert body["status"] == "ok"
    assert body["dependencies"]["blob"]["status"] == "ok"
    assert body["dependencies"]["service_bus"]["status"] == "ok"


@pytest.mark.slow(12)
def test_health_answers_503_and_names_service_bus_when_the_broker_is_down(
    hub_host: HubHost, servicebus_emulator: ServiceBusEmulator
) -> None:
    servicebus_emulator.stop()

    with hub_host.client(key=None) as client:
        response = client.get("/api/health")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "down"
    assert body["dependencies"]["service_bus"]["status"] == "down"
    assert body["dependencies"]["blob"]["status"] == "ok"
    assert "SharedAccessKey" not in response.text
