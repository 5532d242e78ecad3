"""Revenue submissions (RSS) from SharePoint: Graph's webhook, the queue it feeds, and two timers.

``POST /api/graph/notifications`` is anonymous because Graph sends no
function key; what it trusts is each notification's ``clientState``
(``shared/workflows/revenue_submissions/notifications.py``). It answers the
validation handshake by echoing ``validationToken`` as ``text/plain`` before
building anything, and a notification with 202 once the lists it names are
on ``%RSS_SUBMISSIONS_QUEUE%``: Graph wants an answer within 3 seconds, the
deposit check takes longer. A POST whose every notification is refused is
answered 403 and queues nothing. The queue trigger sweeps the list's delta
and checks what awaits it; the timers keep the subscriptions alive and sweep
every list, for notifications that never came. With RSS off
(``RSS_REVENUE_LISTS`` unset) the webhook answers 503 and the timers do nothing.
"""

from __future__ import annotations

import logging

import azure.functions as func

from functions.app_hub import hub
from functions.delivery import EVENT_SECONDS, delivery_of
from functions.invocation import invocation
from shared.deadline import deadline

log = logging.getLogger(__name__)
blueprint = func.Blueprint()
RSS_SECONDS = 8 * 60  # a sweep reads a few pages, each check a workbook and a few SQL statements
# Graph's webhook is the one HTTP trigger outside the /api/v1 operations: Graph, not Power Platform, calls it.
GRAPH_WEBHOOK_ROUTE = "graph/notifications"


@blueprint.route(route=GRAPH_WEBHOOK_ROUTE, methods=["POST"], auth_level=func.AuthLevel.ANONYMOUS)
def graph_notifications(req: func.HttpRequest, context: func.Context) -> func.HttpResponse:
    token = req.params.get("validationToken")
    if token is not None:
        return func.HttpResponse(token, status_code=200, mimetype="text/plain")
    # Imported here, after the handshake: echoing the token must not wait on the hub's imports.
    from shared.workflows.revenue_submissions.notifications import NotANotificationError

    built = hub()
    if not built.rss_configured:
        return func.HttpResponse("revenue submissions are off", status_code=503, mimetype="text/plain")
    with invocation(context), deadline(EVENT_SECONDS):
        try:
            received = built.revenue_submissions_for_api.receive(req.get_body())
        except NotANotificationError as error:
            return func.HttpResponse(str(error), status_code=400, mimetype="text/plain")
    if received.refused and not received.queued:
        return func.HttpResponse("clientState does not match", status_code=403, mimetype="text/plain")
    return func.HttpResponse(status_code=202)


@blueprint.service_bus_queue_trigger(
    arg_name="message", queue_name="%RSS_SUBMISSIONS_QUEUE%", connection="ServiceBusConnection"
)
def sweep_revenue_list(message: func.ServiceBusMessage, context: func.Context) -> None:
    built = hub()
    with invocation(context), deadline(RSS_SECONDS):
        built.revenue_submissions.handle(delivery_of(message, built.settings.rss_submissions_queue))


@blueprint.timer_trigger(schedule="%RSS_SUBSCRIPTIONS_SCHEDULE%", arg_name="timer")
def keep_rss_subscriptions(timer: func.TimerRequest, context: func.Context) -> None:
    with invocation(context):
        if not hub().rss_configured:
            log.info("RSS subscriptions skipped: revenue submissions are off (RSS_REVENUE_LISTS)")
            return
        kept = hub().rss_subscriptions.run()
        log.info(
            "RSS subscriptions: %d created, %d renewed, %d current, %d failed",
            len(kept.created), len(kept.renewed), len(kept.current), len(kept.failed),
        )  # fmt: skip


@blueprint.timer_trigger(schedule="%RSS_SWEEP_SCHEDULE%", arg_name="timer")
def sweep_revenue_lists(timer: func.TimerRequest, context: func.Context) -> None:
    with invocation(context):
        if not hub().rss_configured:
            log.info("RSS sweep skipped: revenue submissions are off (RSS_REVENUE_LISTS)")
            return
        queued = hub().revenue_submissions.queue_every_list()
        log.info("RSS sweep queued %d list(s)", len(queued))
