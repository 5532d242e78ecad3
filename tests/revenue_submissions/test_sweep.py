"""With Graph's notifications switched off, the delta sweep alone finds each submission and checks it once:
the matching one ready, the mismatching one rejected with its figures and one mail, the unreadable one
rejected with its reason and nothing staged; an expired delta link starts over without checking twice."""

from __future__ import annotations

from decimal import Decimal

import pytest

from localdev.sandbox.graph.workbooks import CASH_CATEGORY
from localdev.sandbox_sql import SandboxSummary
from shared.composition import Hub
from tests.fixtures.dataverse_sandbox import DataverseSandbox
from tests.fixtures.servicebus_emulator import ServiceBusEmulator
from tests.revenue_submissions.rss_world import (
    MAILBOX,
    PERIOD,
    SUBMITTER_EMAIL,
    GraphControls,
    RssSite,
    drain,
    ready_for_invoice,
    staged_rows,
)

pytestmark = pytest.mark.services
SUBMIT = "Submit for Invoicing"


def test_the_sweep_checks_what_notifications_never_said(
    quiet_hub: Hub,
    graph: GraphControls,
    rss_sites: list[RssSite],
    servicebus_emulator: ServiceBusEmulator,
    dataverse_sandbox: DataverseSandbox,
    hub_sql_summary: SandboxSummary,
) -> None:
    graph.notifications(False)
    balanced, short = rss_sites
    matching = graph.upload(balanced, cash=balanced.balancing_cash(), status=SUBMIT)
    off_by = Decimal("250.00")
    mismatching = graph.upload(short, cash=short.balancing_cash() + off_by, status=SUBMIT)
    draft = graph.upload(short, cash=Decimal("10.00"))  # uploaded, not submitted: never checked

    assert len(quiet_hub.revenue_submissions.queue_every_list()) == 2
    results = [r for r in drain(quiet_hub, servicebus_emulator) if r is not None]

    assert sorted((r.list_key, len(r.checked)) for r in results) == sorted(
        [(balanced.list_key, 1), (short.list_key, 1)]
    )
    assert graph.deliveries() == []  # nothing was notified: the sweep found both
    assert graph.status(balanced, matching) == "Ready for Invoice"
    assert graph.status(short, mismatching) == "Rejected"
    assert graph.status(short, draft) is None
    (ready,) = ready_for_invoice(dataverse_sandbox, balanced)
    assert (ready["cr9e8_period"], ready["cr9e8_invoicestatus"], ready["cr9e8_comments"]) == (
        PERIOD,
        "Ready for Invoice",
        None,
    )
    assert ready["cr9e8_rssfile"] == f"{balanced.name}REV{PERIOD[:4]} C{PERIOD[4:]}.xlsm"
    (rejected,) = ready_for_invoice(dataverse_sandbox, short)
    recorded = short.tp_deposits - (short.balancing_cash() + off_by)
    assert rejected["cr9e8_invoicestatus"] == "Rejected"
    for figure in (recorded, -short.account_4785, -off_by):
        assert f"{figure:,.2f}" in rejected["cr9e8_comments"]

    (mail,) = graph.mail()
    assert (mail["from"], mail["to"]) == (MAILBOX, [SUBMITTER_EMAIL])
    assert short.number in mail["subject"]
    body = mail["message"]["body"]["content"]
    assert f"{recorded:,.2f}" in body and f"{-short.account_4785:,.2f}" in body

    staged = staged_rows(hub_sql_summary.folder, balanced)
    cash = sum(Decimal(str(value)) for _, _, category, value in staged if category == CASH_CATEGORY)
    assert cash == balanced.balancing_cash()
    assert {day[:7] for _, day, _, _ in staged} == {f"{PERIOD[:4]}-{PERIOD[4:]}"}

    # A second sweep sees nothing new but the hub's own status changes, and checks nothing again.
    quiet_hub.revenue_submissions.queue_every_list()
    again = [r for r in drain(quiet_hub, servicebus_emulator) if r is not None]
    assert [len(r.checked) for r in again] == [0, 0]
    assert len(graph.mail()) == 1


def test_an_unreadable_workbook_is_rejected_with_its_reason_and_nothing_staged(
    quiet_hub: Hub,
    graph: GraphControls,
    rss_sites: list[RssSite],
    dataverse_sandbox: DataverseSandbox,
    hub_sql_summary: SandboxSummary,
) -> None:
    graph.notifications(False)
    site = rss_sites[0]
    item = graph.upload(site, cash=None, status=SUBMIT)
    revenue = next(r for r in quiet_hub.revenue_submissions.lists if r.key == site.list_key)

    result = quiet_hub.revenue_submissions.sweep(revenue, claimant="test")

    (checked,) = result.checked
    assert (checked.decision, checked.figures) == ("unreadable", None)
    assert graph.status(site, item) == "Rejected"
    (row,) = ready_for_invoice(dataverse_sandbox, site)
    assert row["cr9e8_invoicestatus"] == "Rejected"
    assert "could not be read" in row["cr9e8_comments"] and "not an Excel workbook" in row["cr9e8_comments"]
    assert staged_rows(hub_sql_summary.folder, site) == []
    (mail,) = graph.mail()
    assert "not an Excel workbook" in mail["message"]["body"]["content"]


def test_an_expired_delta_link_reads_every_item_again_and_checks_none_twice(
    quiet_hub: Hub, graph: GraphControls, rss_sites: list[RssSite]
) -> None:
    graph.notifications(False)
    site = rss_sites[0]
    graph.upload(site, cash=site.balancing_cash(), status=SUBMIT)
    revenue = next(r for r in quiet_hub.revenue_submissions.lists if r.key == site.list_key)
    first = quiet_hub.revenue_submissions.sweep(revenue, claimant="first")
    graph.expire_tokens(site)

    second = quiet_hub.revenue_submissions.sweep(revenue, claimant="second")

    assert len(first.checked) == 1 and not first.restarted
    assert second.restarted and second.seen == 1 and second.checked == []
