"""No secret in any exported span, metric or log line: keys, client secrets, account keys, tokens."""

from __future__ import annotations

import re

import pytest

from localdev.trace_tree import LOGS_FILE, METRICS_FILE, SPANS_FILE
from tests.fixtures.hub_host import FUNCTION_KEY, MASTER_KEY, HubHost
from tests.telemetry.telemetry_world import finished, named, spans_when

pytestmark = pytest.mark.services


def _secrets(settings: dict[str, str]) -> dict[str, str]:
    """Every secret value the host was given, by where it came from."""
    found = {
        "function key": FUNCTION_KEY,
        "master key": MASTER_KEY,
        "Dataverse client secret": settings["SECRET_DATAVERSE_CLIENT_SECRET"],
    }
    for setting in ("ServiceBusConnection", "AzureWebJobsStorage"):
        for key in re.findall(r"(?:SharedAccessKey|AccountKey)=([^;]+)", settings[setting]):
            found[f"{setting} key"] = key
    return found


@pytest.mark.slow(20)
def test_a_sync_and_refused_calls_leave_no_secret_in_the_telemetry(hub_host: HubHost) -> None:
    with hub_host.client(key=None) as anonymous:
        assert anonymous.get("/api/v1/syncs", params={"code": "not-the-key"}).status_code == 401
        assert anonymous.get("/api/v1/syncs", params={"code": FUNCTION_KEY}).status_code == 200
    with hub_host.client() as client:
        run = finished(client, client.post("/api/v1/syncs/master_customer_sites", json={}), hub_host)
    folder = hub_host.telemetry
    spans_when(
        folder,
        lambda spans: any(s.attributes.get("hub.run_id") == run["id"] for s in named(spans, "batch load")),
    )
    exported = "".join(
        (folder / name).read_text(encoding="utf-8") for name in (SPANS_FILE, METRICS_FILE, LOGS_FILE)
    )
    assert len(exported) > 10_000, "the scan reads what the host exported"
    for source, secret in _secrets(hub_host.settings).items():
        assert secret not in exported, f"the {source} is in the exported telemetry"
    assert not re.search(r"Bearer\s+ey", exported), "an access token is in the exported telemetry"
    assert "code=" not in exported, "a function key passed as ?code= reached an attribute"
