"""``GET /api/health`` (liveness) and ``/api/health/ready`` (readiness) on the real app.

Liveness calls nothing, so it answers at once, anonymously, even with a dependency down;
readiness checks each dependency and reports each one's own latency, and names the one that is down.
"""

from __future__ import annotations

import time

import pytest

from shared.health import check_dependencies
from tests.fixtures.hub_host import HubHost
from tests.fixtures.servicebus_emulator import ServiceBusEmulator


def test_liveness_is_anonymous_and_readiness_reports_each_dependency(hub_host: HubHost) -> None:
    with hub_host.client(key=None) as anonymous:
        live = anonymous.get("/api/health")
        refused = anonymous.get("/api/health/ready")
    with hub_host.client() as keyed:
        ready = keyed.get("/api/health/ready")

    assert live.status_code == 200, live.text
    assert live.headers["content-type"].startswith("application/json")
    assert live.json() == {"status": "ok"}
    assert refused.status_code == 401
    assert ready.status_code == 200, ready.text
    dependencies = ready.json()["dependencies"]
    assert {"blob", "table", "service_bus"} <= set(dependencies)
    assert all(dependency["status"] == "ok" and dependency["ms"] >= 0 for dependency in dependencies.values())


@pytest.mark.slow(12)
def test_with_the_broker_down_liveness_still_answers_at_once_and_readiness_names_service_bus(
    hub_host: HubHost, servicebus_emulator: ServiceBusEmulator
) -> None:
    servicebus_emulator.stop()

    with hub_host.client(key=None) as anonymous:
        anonymous.get("/api/health")  # the first call of a fresh host builds the hub's clients
        started = time.monotonic()
        live = anonymous.get("/api/health")
        live_seconds = time.monotonic() - started
    with hub_host.client() as keyed:
        response = keyed.get("/api/health/ready")

    assert live.status_code == 200 and live.json() == {"status": "ok"}
    assert live_seconds < 1.0, live_seconds
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "down"
    assert body["dependencies"]["service_bus"]["status"] == "down"
    assert body["dependencies"]["blob"]["status"] == "ok"
    assert "SharedAccessKey" not in response.text


def test_each_dependency_reports_its_own_latency_not_the_time_since_the_first_began() -> None:
    def slow() -> None:
        time.sleep(0.4)

    def quick() -> None:
        pass

    def hangs() -> None:
        time.sleep(3)

    report = check_dependencies({"slow": slow, "quick": quick, "hangs": hangs}, deadline_seconds=1.0)

    status = {dependency.name: dependency for dependency in report.dependencies}
    assert 400 <= status["slow"].milliseconds < 1000
    assert status["quick"].milliseconds < 100 and status["quick"].ok
    assert not status["hangs"].ok and status["hangs"].milliseconds == 1000
    assert status["hangs"].detail == "no answer within 1 s"
