"""``/api/v1`` on the real ``function_app.py`` in the local Functions host: keys, the document, problems, polling."""

from __future__ import annotations

import time

import pytest
from openapi_spec_validator import validate

from shared.connectors.syncs import SYNCS
from tests.fixtures.hub_host import HubHost

pytestmark = pytest.mark.services
JSON = {"content-type": "application/json"}


def test_keys_guard_the_api_and_readiness_but_not_its_document_or_liveness(hub_host: HubHost) -> None:
    with hub_host.client(key=None) as anonymous:
        assert anonymous.get("/api/v1/syncs").status_code == 401
        assert anonymous.get("/api/v1/runs/any").status_code == 401
        document = anonymous.get("/api/v1/openapi.json")
        assert document.status_code == 200
        validate(document.json())
        # Imported from its URL, the document needs no edit: it names the host and scheme it came from.
        assert document.json()["host"] == f"127.0.0.1:{hub_host.port}"
        assert document.json()["schemes"] == ["http"]
        assert anonymous.get("/api/health").status_code == 200
        assert anonymous.get("/api/health/ready").status_code == 401  # it names downstream hosts
    with hub_host.client() as keyed:
        assert keyed.get("/api/health/ready").status_code in (200, 503)
        assert keyed.get("/api/v1/syncs").status_code == 200
        assert keyed.delete("/api/v1/deadletters/sync-requests/m1").status_code == 401  # the admin key only
        missing = keyed.get("/api/v1/runs/20261101T000000Z-none-00000000")
        assert missing.status_code == 404
        assert missing.headers["content-type"] == "application/problem+json"
        assert "Traceback" not in missing.text


def test_a_power_automate_style_client_follows_location_to_the_result(hub_host: HubHost) -> None:
    with hub_host.client() as client:
        answer = client.post("/api/v1/syncs/master_customer_sites", json={"mode": "incremental"})
        assert answer.status_code == 202
        deadline = time.monotonic() + 120
        while answer.status_code == 202:
            assert time.monotonic() < deadline, (
                f"the run never finished: {answer.text}\n{hub_host.log()[-4000:]}"
            )
            time.sleep(min(int(answer.headers["Retry-After"]), 2))
            answer = client.get(answer.headers["Location"])
        assert answer.status_code == 200
        result = answer.json()
        # The sandbox seeds a few master rows without street or city: quarantined, the rest loaded.
        assert result["status"] in ("succeeded", "partially_failed"), result
        assert result["load"]["upserted"] > 0


def test_every_stream_shows_the_schedule_its_sync_runs_on_in_the_app_settings(hub_host: HubHost) -> None:
    with hub_host.client() as client:
        listed = client.get("/api/v1/syncs")
    assert listed.status_code == 200, listed.text
    shown = {sync["stream"]: sync.get("schedule") for sync in listed.json()["value"]}
    assert shown == {
        stream: hub_host.settings[sync.schedule_setting] for sync in SYNCS for stream in sync.streams
    }
    assert len(set(shown.values())) == len(SYNCS)  # each sync's own, not one value for all
    log = hub_host.log()
    for sync in SYNCS:  # the host indexed each generated timer under its sync's name and setting
        assert f"\t{sync.name}: timerTrigger, schedule '{hub_host.settings[sync.schedule_setting]}'" in log


def test_a_body_over_the_api_limit_or_not_json_is_a_problem_on_the_host(hub_host: HubHost) -> None:
    start = "/api/v1/syncs/master_customer_sites"
    with hub_host.client() as client:
        too_long = client.post(start, content=b'{"mode": "full"' + b" " * 1_048_576 + b"}", headers=JSON)
        assert too_long.status_code == 413, too_long.text
        assert too_long.headers["content-type"] == "application/problem+json"
        assert too_long.json()["type"].endswith(":body-too-large")
        plain = client.post(start, content=b'{"mode": "full"}', headers={"content-type": "text/plain"})
        assert plain.status_code == 415 and plain.json()["type"].endswith(":unsupported-media-type")
        assert client.get("/api/v1/runs", params={"stream": "master_customer_sites"}).json()["value"] == []
