"""The Dataverse events trigger: each change Dataverse's service endpoint posts is routed to its work.

Dataverse posts the execution context of each registered step (Create /
Update of a row) to ``%DATAVERSE_EVENTS_QUEUE%`` (``infra/README.md`` says how
an admin registers them); ``shared/workflows/dataverse_events`` reads the row
back and starts the GP posting or the syncs it asks for. A body that is not an
execution context is set aside for ``/api/v1/deadletters/dataverse-events``.
"""

from __future__ import annotations

import azure.functions as func

from functions.app_hub import hub
from functions.delivery import EVENT_SECONDS, delivery_of
from functions.invocation import invocation
from shared.deadline import deadline

blueprint = func.Blueprint()


@blueprint.service_bus_queue_trigger(
    arg_name="message", queue_name="%DATAVERSE_EVENTS_QUEUE%", connection="ServiceBusConnection"
)
def route_dataverse_event(message: func.ServiceBusMessage, context: func.Context) -> None:
    built = hub()
    with invocation(context), deadline(EVENT_SECONDS):
        built.dataverse_events.handle(delivery_of(message, built.settings.dataverse_events_queue))
