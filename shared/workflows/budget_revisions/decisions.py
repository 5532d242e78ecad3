"""An approver's decision on a budget revision: approve or reject, by a caller with the approver role.

The API (``shared/api/handlers/budget_revisions.py``) checks the role; this
module makes the transition, so a revision decided already, or one the hub has
withdrawn, is refused with ``IllegalRevisionTransitionError`` (409), never
decided twice. Approving does not load anything itself: the next
``budget_monthly`` run sums the new balance and marks the revision applied.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from shared.workflows.budget_revisions.revisions import BudgetRevision, RevisionEvent, move

if TYPE_CHECKING:  # the API's handlers import this module when the app is indexed: no SDK then
    from shared.workflows.budget_revisions.revision_table import RevisionTable


def decide(
    revisions: RevisionTable, revision_id: str, event: RevisionEvent, by: str, why: str, at: datetime
) -> BudgetRevision:
    """The revision after the approver's ``event`` (approved or rejected); ``LookupError`` if there is none."""

    def change(current: BudgetRevision) -> BudgetRevision:
        return move(current, event, at, by, why)

    return revisions.update(revision_id, change)
