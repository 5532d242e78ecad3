"""A budget revision's life as CloudEvents on the run-events topic, one per write of its record.

``com.townepark.hub.budget_revision.pending_approval`` is the one an approval
flow subscribes to (README, "Budget revisions need approval"); the others say
what became of it. ``data`` names the revision and carries the fields the
write changed, as a run's events do, so folding them rebuilds the record.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from shared.platform.cloud_events import CloudEvent, rebuild, write_event
from shared.workflows.budget_revisions.revisions import BudgetRevision

SOURCE = "budget-revisions"


def revision_event(before: BudgetRevision | None, after: BudgetRevision, now: datetime) -> CloudEvent:
    """The event of one write: named after the status it reached."""
    about = {
        "revisionId": after.id,
        "status": after.status.value,
        "site": after.site,
        "period": after.period,
        "account": after.account,
    }
    return write_event(
        "budget_revision", after.status.value, SOURCE, before, after, after.id, after.version, about, now
    )


def rebuild_revision(events: Iterable[CloudEvent]) -> BudgetRevision:
    return BudgetRevision.model_validate(rebuild(events))
