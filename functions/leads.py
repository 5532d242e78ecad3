"""The lead captures trigger: each lead the API queued is filed in Salesforce (``shared/workflows/lead_capture``).

While Salesforce is down the delivery is rescheduled as the error table says,
so the lead waits on ``%LEAD_CAPTURES_QUEUE%`` and arrives once it is back.
"""

from __future__ import annotations

import azure.functions as func

from functions.app_hub import hub
from functions.delivery import EVENT_SECONDS, delivery_of
from functions.invocation import invocation
from shared.deadline import deadline

blueprint = func.Blueprint()


@blueprint.service_bus_queue_trigger(
    arg_name="message", queue_name="%LEAD_CAPTURES_QUEUE%", connection="ServiceBusConnection"
)
def file_captured_lead(message: func.ServiceBusMessage, context: func.Context) -> None:
    built = hub()
    with invocation(context), deadline(EVENT_SECONDS):
        built.lead_captures.deliver(delivery_of(message, built.settings.lead_captures_queue))
