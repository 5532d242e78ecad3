"""Revenue submissions from notification to status: a list's changes read by delta, each submission checked once.

Every way in ends on the ``rss-submissions`` queue as "this list changed":
the webhook for each list Graph notified (``receive``), the sweep timer for
every configured list (``queue_every_list``). The trigger then asks the list's
delta what changed since its saved link (``sweep``), the only source of truth
for what changed, and checks each item whose status is 'Submit for
Invoicing' (``check``), keyed by site, period and the file's content tag so a
submission is checked once however often it is seen. The link is saved only
after every item behind it was handled; a failure leaves it, so the
redelivery reads the same changes again.

A check (DOMAIN.md §9, replacing the Ready-for-Invoicing Logic App):

1. the workbook is downloaded and its data mart read (``workbook``); one that
   cannot be read is rejected with the reason, and nothing is staged;
2. the data mart replaces the site's month in TP_STAGE in one transaction (``staging``);
3. the deposits are checked (``deposit_check``) within ``RSS_DEPOSIT_TOLERANCE``;
4. ``cr9e8_readyforinvoice`` for the site and period is upserted with the status
   ('Ready for Invoice' or 'Rejected'), the file and, when rejected, the figures
   or the reason in ``cr9e8_comments``; the list item's status is set the same;
5. a rejection is mailed to the submitter (``WORKDAY_SITE_SALARIES``; the
   sending mailbox itself when Workday does not know them) from ``RSS_MAILBOX``.

Each step repeats safely on a retry (delete-then-insert, upserts, PATCH of the
same field) except the mail, sent once the rest is written: a crash between the
mail and the claim's ``done`` can send it twice, never zero times.
"""

from __future__ import annotations

import html
import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Literal

import orjson
from opentelemetry.trace import Status, StatusCode
from sqlalchemy import Engine

from shared.connectors.dataverse.client import DataverseClient
from shared.connectors.graph.list_items import ListItems, RevenueListRef
from shared.connectors.graph.mail import Mailbox
from shared.errors import ErrorClass, classify_exception
from shared.pipeline.delivery import DeadLetter, Delivery, Redeliveries
from shared.platform.conflicts import StateConflictError
from shared.platform.service_bus import OutgoingMessage, ServiceBus
from shared.redaction import redact
from shared.telemetry import names
from shared.telemetry.spans import continued, span
from shared.workflows.revenue_submissions.deposit_check import (
    DepositFigures,
    deposits_balance,
    rejection_comment,
)
from shared.workflows.revenue_submissions.notifications import notified_lists
from shared.workflows.revenue_submissions.staging import (
    deposit_figures,
    load_data_mart,
    submitter_email,
)
from shared.workflows.revenue_submissions.state import CheckClaims, DeltaLinks
from shared.workflows.revenue_submissions.submissions import (
    READY_FOR_INVOICE,
    REJECTED,
    STATUS_FIELD,
    RssSubmission,
    submission,
)
from shared.workflows.revenue_submissions.workbook import UnreadableWorkbookError, read_data_mart

log = logging.getLogger(__name__)

READY_FOR_INVOICES = "cr9e8_readyforinvoices"
Decision = Literal["ready", "rejected", "unreadable"]


@dataclass(frozen=True)
class CheckOutcome:
    site: str
    period: str
    decision: Decision
    comment: str | None
    figures: DepositFigures | None
    mailed_to: str | None


@dataclass(frozen=True)
class SweepResult:
    list_key: str
    seen: int  # items changed since the saved link
    checked: list[CheckOutcome] = field(default_factory=list)
    already_checked: int = 0  # submissions another delivery checked, or is checking
    restarted: bool = False  # the saved link had expired; every item was read again


@dataclass(frozen=True)
class Received:
    """What the webhook did with one POST: lists queued, notifications refused."""

    queued: list[str]
    refused: int


class RevenueSubmissions:
    """One instance per worker process (``Hub.revenue_submissions``)."""

    def __init__(
        self,
        *,
        lists: Sequence[RevenueListRef],
        items: ListItems,
        edw: Engine,
        dataverse: DataverseClient,
        mailbox: Mailbox,
        links: DeltaLinks,
        claims: CheckClaims,
        bus: ServiceBus,
        queue: str,
        redeliveries: Redeliveries,
        client_state: Callable[[], str],
        tolerance: Decimal,
        now: Callable[[], datetime],
    ) -> None:
        self._lists = {revenue.key: revenue for revenue in lists}
        self._items = items
        self._edw = edw
        self._dataverse = dataverse
        self._mailbox = mailbox
        self._links = links
        self._claims = claims
        self._bus = bus
        self._queue = queue
        self._redeliveries = redeliveries
        self._client_state = client_state
        self._tolerance = tolerance
        self._now = now

    @property
    def lists(self) -> list[RevenueListRef]:
        return list(self._lists.values())

    def receive(self, body: bytes) -> Received:
        """The webhook's work: queue each configured list a trusted notification names (``notifications``)."""
        changes = notified_lists(body, self._client_state())
        watched = [revenue for revenue in changes.lists if revenue.key in self._lists]
        if changes.refused:
            log.warning(
                "Graph webhook refused %d notification(s): clientState did not match", changes.refused
            )
        return Received(self._queue_lists(watched, "notification"), changes.refused)

    def queue_every_list(self) -> list[str]:
        """The sweep timer's work: every configured list's delta is read, whatever was notified."""
        return self._queue_lists(self.lists, "sweep")

    def _queue_lists(self, lists: Sequence[RevenueListRef], reason: str) -> list[str]:
        messages = [
            OutgoingMessage(
                {"siteId": revenue.site_id, "listId": revenue.list_id, "reason": reason},
                message_id=f"rss-{reason}-{uuid.uuid4()}",
                subject=reason,
            )
            for revenue in lists
        ]
        if messages:
            self._bus.publish_many(self._queue, messages)
        return [message.message_id for message in messages]

    def handle(self, delivery: Delivery) -> SweepResult | None:
        """The queue trigger's work: sweep the list, or settle the failure (retry later, or set aside)."""
        about = {names.QUEUE: delivery.queue, names.CORRELATION_ID: delivery.correlation_id}
        with continued(delivery.application_properties), span(names.SPAN_RSS_SWEEP, about) as current:
            try:
                asked = orjson.loads(delivery.body)
                revenue = self._lists[f"{asked['siteId']}/{asked['listId']}"]
            except (orjson.JSONDecodeError, KeyError, TypeError) as error:
                reason = f"not a configured Revenue list: {type(error).__name__} {redact(str(error))}"
                self._redeliveries.carry_out(delivery, DeadLetter(ErrorClass.BAD_RECORD, reason))
                current.set_status(Status(StatusCode.ERROR, reason))
                return None
            try:
                return self.sweep(revenue, claimant=delivery.message_id)
            except Exception as error:  # noqa: BLE001 - settled below as the error table says
                decision = self._redeliveries.decide(
                    delivery, classify_exception(error), str(error), getattr(error, "retry_after", None)
                )
                self._redeliveries.carry_out(delivery, decision)
                current.set_status(Status(StatusCode.ERROR, redact(str(error))))
                return None

    def sweep(self, revenue: RevenueListRef, claimant: str) -> SweepResult:
        """Read the list's changes since its saved link, check what awaits it, then save the new link."""
        saved = self._links.read(revenue.key)
        changes = self._items.changes(revenue, saved.link)
        checked: list[CheckOutcome] = []
        already = 0
        for item in changes.items:
            found = submission(item)
            if found is None or not found.awaits_check:
                continue
            outcome = self.check(revenue, found, claimant)
            if outcome is None:
                already += 1
            else:
                checked.append(outcome)
        try:
            self._links.write(revenue.key, changes.delta_link, saved.etag)
        except StateConflictError:
            # Another sweep of the list saved a link first; what this one saw is handled (claims) either way.
            log.info("RSS sweep of %s: another sweep saved the delta link first", revenue.key)
        if changes.restarted:
            log.warning("RSS sweep of %s: the delta link had expired; every item was read again", revenue.key)
        result = SweepResult(revenue.key, len(changes.items), checked, already, changes.restarted)
        log.info(
            "RSS sweep of %s: %d changed, %d checked (%s), %d already checked",
            revenue.key, result.seen, len(checked),
            ", ".join(f"{c.site} {c.period} {c.decision}" for c in checked) or "none", already,
        )  # fmt: skip
        return result

    def check(self, revenue: RevenueListRef, rss: RssSubmission, claimant: str) -> CheckOutcome | None:
        """The deposit check of one submission, once per file version; None when it is checked already."""
        file = self._items.file(revenue, rss.item_id)
        key = f"{rss.site}|{rss.period}|{file.get('cTag') or file.get('eTag')}"
        if not self._claims.claim(key, claimant, self._now()):
            return None
        figures: DepositFigures | None = None
        try:
            rows = read_data_mart(self._items.content(revenue, rss.item_id), rss.site, rss.period)
        except UnreadableWorkbookError as unreadable:
            decision: Decision = "unreadable"
            comment: str | None = f"Rejected: the workbook could not be read: {unreadable}."
        else:
            load_data_mart(self._edw, rss.site, rss.period, rss.title, rows)
            figures = deposit_figures(self._edw, rss.site, rss.period)
            balanced = deposits_balance(figures, self._tolerance)
            decision = "ready" if balanced else "rejected"
            comment = None if balanced else rejection_comment(figures)
        status = READY_FOR_INVOICE if decision == "ready" else REJECTED
        self._dataverse.upsert(
            READY_FOR_INVOICES,
            {"cr9e8_site": rss.site, "cr9e8_period": rss.period},
            {
                "cr9e8_rssfile": rss.title,
                "cr9e8_invoicestatus": status,
                "cr9e8_comments": comment,
                "bs_rssfileversion": str(file.get("cTag") or ""),
            },
        )
        self._items.set_fields(revenue, rss.item_id, {STATUS_FIELD: status})
        mailed_to = self._mail_rejection(rss, comment) if comment is not None else None
        outcome = CheckOutcome(rss.site, rss.period, decision, comment, figures, mailed_to)
        self._claims.finish(key, {"Decision": decision, "MailedTo": mailed_to or ""}, self._now())
        if decision != "ready":
            log.warning("RSS %s (site %s, %s) rejected: %s", rss.title, rss.site, rss.period, comment)
        return outcome

    def _mail_rejection(self, rss: RssSubmission, comment: str) -> str:
        recipient = submitter_email(self._edw, rss.submitter) or self._mailbox.address
        subject = f"End of Month RSS Submission Failure - {rss.site} {rss.period[:4]}-{rss.period[4:]}"
        body = (
            f"<p>The end of month RSS <b>{html.escape(rss.title)}</b> for site {rss.site}, period "
            f"{rss.period[:4]}-{rss.period[4:]}, was not accepted for invoicing.</p>"
            f"<p>{html.escape(comment)}</p>"
            "<p>Please review the General Ledger report for your site, balance the recorded deposits "
            "to the value in account 4785, and resubmit your RSS.</p>"
        )
        self._mailbox.send([recipient], subject, body)
        return recipient
