"""The sandbox Microsoft Graph keeps Graph's documented rules: a Graph token only, delta pages and links,
410 for an expired token, the list subscription's 42,300-minute limit and its validation handshake,
a pre-authenticated file download, and sendMail's 202."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from localdev import services
from localdev.sandbox.graph.world import SEEDED_SITES, site_ids
from tests.fixtures.dataverse_sandbox import DataverseSandbox
from tests.revenue_submissions.rss_world import GraphControls, graph

__all__ = ["graph"]
pytestmark = pytest.mark.services


@pytest.fixture
def revenue(graph: GraphControls) -> dict[str, str]:
    return graph.add_site("TP0170")


def _upload(dataverse_sandbox: DataverseSandbox, site_id: str, cash: str) -> str:
    with httpx.Client(verify=dataverse_sandbox.tls(), timeout=30) as client:
        answer = client.post(
            f"{dataverse_sandbox.url}/sandbox/graph/sites/{site_id}/items",
            json={"site": "0170", "period": "202510", "cash": cash, "by": "Okafor, Adaeze"},
        )
    answer.raise_for_status()
    return str(answer.json()["itemId"])


def test_delta_pages_link_to_the_next_and_end_with_a_delta_link_that_later_gives_only_changes(
    graph: GraphControls, revenue: dict[str, str], dataverse_sandbox: DataverseSandbox
) -> None:
    ids = [_upload(dataverse_sandbox, revenue["siteId"], f"{n}.00") for n in range(5)]
    items = f"sites/{revenue['siteId']}/lists/{revenue['listId']}/items"
    with graph.graph() as api:
        pages, url = [], f"{items}/delta?$top=2&$expand=fields"
        while True:
            page = api.get(url).json()
            pages.append([item["id"] for item in page["value"]])
            if "@odata.nextLink" not in page:
                break
            url = page["@odata.nextLink"]
        delta_link = page["@odata.deltaLink"]
        assert pages == [ids[:2], ids[2:4], ids[4:]]
        assert api.get(delta_link).json()["value"] == []
        api.patch(f"{items}/{ids[1]}/fields", json={"Revenue_x0020_Doc_x0020_Status": "Rejected"})
        (changed,) = api.get(delta_link).json()["value"]
        assert (changed["id"], changed["fields"]["Revenue_x0020_Doc_x0020_Status"]) == (ids[1], "Rejected")
        latest = api.get(f"{items}/delta?token=latest").json()
        assert latest["value"] == [] and "@odata.deltaLink" in latest

        graph.expire_site_tokens(revenue["siteId"])
        expired = api.get(delta_link)
        assert expired.status_code == 410 and expired.json()["error"]["code"] == "resyncRequired"
        fresh, url = [], expired.headers["Location"]  # a new enumeration of every item, paged the same way
        while url:
            page = api.get(url).json()
            fresh.extend(item["id"] for item in page["value"])
            url = page.get("@odata.nextLink")
        assert sorted(fresh) == sorted(ids) and "@odata.deltaLink" in page

        content = api.get(f"{items}/{ids[0]}/driveItem/content")
        assert content.status_code == 302
    with httpx.Client(verify=dataverse_sandbox.tls()) as anonymous:  # pre-authenticated: no token
        assert anonymous.get(content.headers["Location"]).content[:2] == b"PK"


def test_graph_wants_a_graph_token(graph: GraphControls, dataverse_sandbox: DataverseSandbox) -> None:
    dataverse_token = dataverse_sandbox.access_token()
    with httpx.Client(verify=dataverse_sandbox.tls()) as client:
        answer = client.get(
            f"{dataverse_sandbox.url}/v1.0/subscriptions",
            headers={"Authorization": f"Bearer {dataverse_token}"},
        )
    assert answer.status_code == 401 and answer.json()["error"]["code"] == "InvalidAuthenticationToken"


def test_a_list_subscription_lasts_at_most_42300_minutes_and_needs_the_handshake(
    graph: GraphControls, revenue: dict[str, str]
) -> None:
    resource = f"sites/{revenue['siteId']}/lists/{revenue['listId']}"

    def subscribe(minutes: int) -> httpx.Response:
        expires = (datetime.now(UTC) + timedelta(minutes=minutes)).isoformat()
        body = {
            "changeType": "updated",
            "notificationUrl": "http://127.0.0.1:9/nobody-listens",
            "resource": resource,
            "expirationDateTime": expires,
            "clientState": "s",
        }
        with graph.graph() as api:
            return api.post("subscriptions", json=body)

    too_long = subscribe(42_300 + 5)
    assert too_long.status_code == 400 and "42300 minutes" in too_long.json()["error"]["message"]
    unvalidated = subscribe(60)
    assert unvalidated.status_code == 400
    assert "validation request failed" in unvalidated.json()["error"]["message"]
    assert graph.subscriptions() == []


def test_send_mail_is_accepted_and_recorded(graph: GraphControls) -> None:
    message = {
        "subject": "RSS",
        "body": {"contentType": "HTML", "content": "<p>figures</p>"},
        "toRecipients": [{"emailAddress": {"address": "am@townepark.com"}}],
    }
    with graph.graph() as api:
        sent = api.post("users/rss-billing@townepark.com/sendMail", json={"message": message})
    assert sent.status_code == 202 and sent.content == b""
    (recorded,) = graph.mail()
    assert (recorded["from"], recorded["to"], recorded["subject"]) == (
        "rss-billing@townepark.com",
        ["am@townepark.com"],
        "RSS",
    )
    assert recorded["message"] == message


def test_make_run_watches_the_lists_every_sandbox_starts_with() -> None:
    example = json.loads((services.REPO / "local.settings.json.example").read_text(encoding="utf-8"))
    named = example["Values"]["RSS_REVENUE_LISTS"].split(";")
    assert named == ["/".join(site_ids(name)) for name in SEEDED_SITES]
