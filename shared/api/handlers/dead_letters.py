"""``/v1/deadletters``: what a queue gave up on, paged, and resubmitting or discarding one message."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from shared.api import models
from shared.api.answers import ok
from shared.api.calls import ApiServices, Call
from shared.api.http import ApiResponse
from shared.api.problems import ProblemError

if TYPE_CHECKING:
    from shared.platform.service_bus import DeadLetter


def list_dead_letters(services: ApiServices, call: Call) -> ApiResponse:
    queue = _queue(services, call.path.queue)
    query: models.DeadLetterQuery = call.query
    found, token = services.dead_letters.page(queue, query.top, query.continuation_token)
    next_link = (
        call.request.link(f"/api/v1/deadletters/{queue}?top={query.top}&continuationToken={token}")
        if token
        else None
    )
    page = models.DeadLetterPage(
        value=[_view(letter) for letter in found],
        continuation_token=token,
        next_link=next_link,
    )
    return ok(page)


def resubmit_dead_letter(services: ApiServices, call: Call) -> ApiResponse:
    return _take(services, call, services.dead_letters.resubmit)


def discard_dead_letter(services: ApiServices, call: Call) -> ApiResponse:
    return _take(services, call, services.dead_letters.discard)


def _take(services: ApiServices, call: Call, take: Callable[[str, str], DeadLetter | None]) -> ApiResponse:
    queue = _queue(services, call.path.queue)
    taken = take(queue, call.path.message_id)
    if taken is None:
        raise ProblemError(
            404, "dead-letter-not-found", f"No dead letter '{call.path.message_id}' on '{queue}'."
        )
    return ok(_view(taken))


def _queue(services: ApiServices, queue: str) -> str:
    if queue not in services.dead_letter_queues:
        known = ", ".join(services.dead_letter_queues)
        raise ProblemError(404, "queue-not-found", f"'{queue}' is not one of the hub's queues ({known}).")
    return queue


def _view(letter: DeadLetter) -> models.DeadLetter:
    return models.DeadLetter(
        message_id=letter.message_id,
        sequence_number=letter.sequence_number,
        enqueued_time=letter.enqueued_time,
        delivery_count=letter.delivery_count,
        reason=letter.reason,
        description=letter.description,
        correlation_id=letter.correlation_id,
        subject=letter.subject,
        properties=letter.application_properties,
        body=letter.body,
    )
