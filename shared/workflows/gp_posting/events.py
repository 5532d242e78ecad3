"""A GP posting's life as CloudEvents: requested, started, each document posted or refused, settled.

Each write of a posting request (``PostingRequestTable``) is one event,
named after the fact it records and carrying the fields it changed, as a
run's are (``shared/pipeline/run_events.py``): a flow subscribed to the
run-events topic learns when a statement reached GP without polling.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime

from shared.platform.cloud_events import CloudEvent, rebuild, write_event
from shared.workflows.gp_posting.requests import ACTIVE, PostingRequest

# Told of every write of a posting request: the record before it (None for a new one) and after it.
PostingObserver = Callable[[PostingRequest | None, PostingRequest], None]


def fact(before: PostingRequest | None, after: PostingRequest) -> str:
    """What the write that turned ``before`` into ``after`` records."""
    if before is None:
        return "requested"
    if after.status != before.status:
        if after.status in ACTIVE:
            return "started" if after.status == "running" else after.status
        return "settled"
    if len(after.documents) > len(before.documents) or after.documents != before.documents:
        newest = after.documents[-1]
        return "document_posted" if newest.status in ("posted", "duplicate") else "document_refused"
    return "updated"


def posting_event(before: PostingRequest | None, after: PostingRequest, now: datetime) -> CloudEvent:
    about = {"requestId": after.id, "status": after.status}
    kind = fact(before, after)
    return write_event("gp_posting", kind, "gp-postings", before, after, after.id, after.version, about, now)


def rebuild_posting(events: Iterable[CloudEvent]) -> PostingRequest:
    return PostingRequest.model_validate(rebuild(events))
