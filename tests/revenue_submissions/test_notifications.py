"""Graph's notifications on the local host: the subscription timer's handshake against the real webhook, a
submission checked through its notification, the same change notified three times checked once, renewal and
recreation of the subscriptions, and a notification with a wrong clientState refused with nothing changed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
import pytest

from shared.composition import Hub
from tests.fixtures.dataverse_sandbox import DataverseSandbox
from tests.fixtures.hub_host import HubHost
from tests.fixtures.servicebus_emulator import ServiceBusEmulator
from tests.revenue_submissions.rss_world import (
    CLIENT_STATE,
    SUBMITTER_EMAIL,
    GraphControls,
    RssSite,
    eventually,
    queued,
    ready_for_invoice,
)

pytestmark = pytest.mark.services
SUBMIT = "Submit for Invoicing"
STATUS = "Revenue_x0020_Doc_x0020_Status"


def _sweeps_logged(host: HubHost, site: RssSite) -> int:
    return host.log().count(f"RSS sweep of {site.list_key}:")


@pytest.mark.slow(20)
def test_notified_submissions_are_checked_once_subscriptions_are_kept_and_forgeries_refused(
    rss_host: HubHost,
    rss_hub: Hub,
    graph: GraphControls,
    rss_sites: list[RssSite],
    dataverse_sandbox: DataverseSandbox,
    servicebus_emulator: ServiceBusEmulator,
) -> None:
    balanced, short = rss_sites
    kept = rss_hub.rss_subscriptions.run()  # Graph's handshake reaches the host's webhook
    assert sorted(kept.created) == sorted(site.list_key for site in rss_sites) and not kept.failed
    subscriptions = {s["resource"]: s for s in graph.subscriptions()}
    assert set(subscriptions) == {f"sites/{site.site_id}/lists/{site.list_id}" for site in rss_sites}
    assert all(s["clientState"] == CLIENT_STATE for s in subscriptions.values())
    lifetime = datetime.fromisoformat(
        next(iter(subscriptions.values()))["expirationDateTime"]
    ) - datetime.now(UTC)
    assert timedelta(minutes=42_300 - 10) < lifetime <= timedelta(minutes=42_300)

    matching = graph.upload(balanced, cash=balanced.balancing_cash(), status=SUBMIT)
    mismatching = graph.upload(short, cash=short.balancing_cash() - Decimal("0.05"), status=SUBMIT)

    eventually(lambda: graph.status(balanced, matching) == "Ready for Invoice", what="the matching check")
    eventually(lambda: graph.status(short, mismatching) == "Rejected", what="the mismatching check")
    assert [r["cr9e8_invoicestatus"] for r in ready_for_invoice(dataverse_sandbox, balanced)] == [
        "Ready for Invoice"
    ]
    (rejected,) = ready_for_invoice(dataverse_sandbox, short)
    assert rejected["cr9e8_invoicestatus"] == "Rejected" and "difference 0.05" in rejected["cr9e8_comments"]
    (mail,) = graph.mail()
    assert mail["to"] == [SUBMITTER_EMAIL] and "0.05" in mail["message"]["body"]["content"]

    # The same change notified three times more: three sweeps, no second check, no second mail.
    graph.edit(short, mismatching, {STATUS: SUBMIT})  # the submitter asks again, same file
    before = _sweeps_logged(rss_host, short)
    graph.notify(short, times=3)
    eventually(lambda: _sweeps_logged(rss_host, short) >= before + 4, what="four sweeps of the list")
    assert graph.status(short, mismatching) == SUBMIT  # same site, period and file: checked already
    assert len(graph.mail()) == 1
    delivered = eventually(lambda: len(graph.deliveries()) >= 5 and graph.deliveries(), what="every delivery")
    assert [d["status"] for d in delivered] == [202] * len(delivered), delivered

    # One subscription about to lapse is renewed; one Graph dropped is made again.
    near, gone = (subscriptions[f"sites/{site.site_id}/lists/{site.list_id}"]["id"] for site in rss_sites)
    graph.move_expiry(near, (datetime.now(UTC) + timedelta(hours=2)).isoformat())
    with graph.graph() as api:
        assert api.delete(f"subscriptions/{gone}").status_code == 204
    again = rss_hub.rss_subscriptions.run()
    assert (again.renewed, again.created, again.failed) == ([balanced.list_key], [short.list_key], {})
    renewed = {s["id"]: s for s in graph.subscriptions()}[near]
    assert datetime.fromisoformat(renewed["expirationDateTime"]) > datetime.now(UTC) + timedelta(days=29)

    # A notification with another clientState is refused, and nothing is swept or changed.
    graph.notifications(False)
    graph.edit(balanced, matching, {STATUS: SUBMIT}, cash=Decimal("1.00"))  # a new file, unchecked
    sweeps = rss_host.log().count("RSS sweep of")
    forged = {
        "value": [
            {
                "subscriptionId": near,
                "clientState": CLIENT_STATE[:-1] + "x",
                "changeType": "updated",
                "resource": f"sites/{balanced.site_id}/lists/{balanced.list_id}",
            }
        ]
    }
    with httpx.Client(base_url=rss_host.base_url, timeout=30) as anonymous:
        echoed = anonymous.post("/api/graph/notifications", params={"validationToken": "a b+c"})
        refused = anonymous.post("/api/graph/notifications", json=forged)
    assert (echoed.status_code, echoed.text) == (200, "a b+c")
    assert echoed.headers["content-type"].startswith("text/plain")
    assert refused.status_code == 403
    assert queued(servicebus_emulator) == 0  # the webhook queues before it answers: nothing was
    assert rss_host.log().count("RSS sweep of") == sweeps
    assert graph.status(balanced, matching) == SUBMIT
