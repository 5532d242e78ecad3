"""The safety net: statements marked for GP in Dataverse that never reached the hub are queued by a timer.

Towne Park's email flow creates a ``bs_emailgenerationprocess`` row with
``bs_sendaction`` SendToGP or SendAll (DOMAIN.md §3 A); the flows then call the
hub's API. If that call never came, the sweep finds the row through Dataverse
change tracking and queues the statement itself. The request id is derived from
the statement and the process row, and a statement the hub already has a
request for is left alone, so the sweep and the API never queue one twice.

The delta link is kept in Blob (``gp/sweep/emailgenerationprocesses.json``).
The first run only takes the link: rows from before the sweep was switched on
are history the flows handled, and sending them again would post journals twice.
A link Dataverse no longer honours (older than its change-tracking retention,
7 days by default) is dropped the same way: the run takes a fresh baseline,
logs a warning and says ``restarted`` in its result, since rows marked while
the sweep was not running are not seen by it.
The process row's lookup to its statement is named in ``PROCESS_STATEMENT``
(unconfirmed).
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass

from shared.connectors.dataverse.client import DataverseClient
from shared.connectors.dataverse.odata_errors import DeltaLinkExpiredError
from shared.platform.blob_store import BlobStore
from shared.workflows.gp_posting.requests import PostingSubject
from shared.workflows.gp_posting.workflow import GpPostings

log = logging.getLogger(__name__)

EMAIL_GENERATION_PROCESSES = "bs_emailgenerationprocesses"
PROCESS_ID = "bs_emailgenerationprocessid"
PROCESS_STATEMENT = "_bs_billingstatementfk_value"  # unconfirmed
SEND_ACTION = "bs_sendaction"
SEND_TO_GP = 126840000
SEND_ALL = 126840002
STATE_PATH = "gp/sweep/emailgenerationprocesses.json"
_REQUEST_NAMESPACE = uuid.UUID("0b7c4f0e-2d55-4a57-8a5e-6a1d3c9e2f41")


@dataclass(frozen=True)
class SweepResult:
    seen: int  # process rows changed since the last run
    queued: list[str]  # request ids queued by this run
    baseline: bool = False  # the first run: only the delta link was taken
    restarted: bool = False  # the saved delta link had expired; this run took a fresh baseline


def sweep_request_id(statement_id: str, process_id: str) -> str:
    """The same statement and process row always give the same request id."""
    return f"sweep-{uuid.uuid5(_REQUEST_NAMESPACE, f'{statement_id.lower()}/{process_id.lower()}')}"


class GpSweep:
    def __init__(self, dataverse: DataverseClient, state: BlobStore, postings: GpPostings) -> None:
        self._dataverse = dataverse
        self._state = state
        self._postings = postings

    def run(self) -> SweepResult:
        saved = self._state.read_json(STATE_PATH)
        delta_link = str(saved.value["deltaLink"]) if saved is not None else None
        columns = (PROCESS_ID, SEND_ACTION, PROCESS_STATEMENT)
        restarted = False
        try:
            changes = self._dataverse.track_changes(EMAIL_GENERATION_PROCESSES, columns, delta_link)
        except DeltaLinkExpiredError as error:
            log.warning(
                "GP sweep: Dataverse no longer honours the saved delta link (%s); "
                "starting over from a fresh baseline, rows marked since the last run are not swept",
                error.message,
            )
            delta_link, restarted = None, True
            changes = self._dataverse.track_changes(EMAIL_GENERATION_PROCESSES, columns)
        queued: list[str] = []
        if delta_link is not None:
            for row in changes.changed:
                statement_id = str(row.get(PROCESS_STATEMENT) or "")
                if row.get(SEND_ACTION) not in (SEND_TO_GP, SEND_ALL) or not statement_id:
                    continue
                request, created = self._postings.request(
                    PostingSubject(statement_id=statement_id),
                    trigger="sweep",
                    requested_by="sweep",
                    request_id=sweep_request_id(statement_id, str(row[PROCESS_ID])),
                    replace_finished=False,
                )
                if created:
                    log.warning(
                        "GP sweep queued statement %s (request %s): the flow never handed it over",
                        statement_id,
                        request.id,
                    )
                    queued.append(request.id)
        # Written only after every row was handled: a failed run sees the same rows next time.
        self._state.write_json(STATE_PATH, {"deltaLink": changes.delta_link}, saved.etag if saved else None)
        return SweepResult(len(changes.changed), queued, baseline=delta_link is None, restarted=restarted)
