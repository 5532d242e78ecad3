"""``/v1/budget/revisions``: the fixed budget's pending changes, and an approver's decision on each.

Listing needs Integration.Read; deciding needs ``Budget.Approve``, which only
an Entra ID token carries (``shared/api/roles.py``). A revision decided
already, or withdrawn by the hub, answers 409 with its status.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from shared.api import revision_models
from shared.api.answers import ok
from shared.api.calls import ApiServices, Call
from shared.api.http import ApiResponse
from shared.api.problems import ProblemError

if TYPE_CHECKING:
    from shared.workflows.budget_revisions.revision_table import RevisionTable
    from shared.workflows.budget_revisions.revisions import BudgetRevision


def list_budget_revisions(services: ApiServices, call: Call) -> ApiResponse:
    query: revision_models.RevisionQuery = call.query
    found = _revisions(services).page(status=query.status, top=query.top)
    return ok(revision_models.RevisionPage(value=[_view(revision) for revision in found]))


def approve_budget_revision(services: ApiServices, call: Call) -> ApiResponse:
    return _decided(services, call, "APPROVED", "approved")


def reject_budget_revision(services: ApiServices, call: Call) -> ApiResponse:
    return _decided(services, call, "REJECTED", "rejected")


def _decided(services: ApiServices, call: Call, event_name: str, default_why: str) -> ApiResponse:
    # Imported here: the operations table names these handlers as the app is indexed, and the workflow's
    # pydantic models cost a cold start milliseconds it need not pay before a decision is asked for.
    from shared.workflows.budget_revisions.decisions import decide
    from shared.workflows.budget_revisions.revisions import IllegalRevisionTransitionError, RevisionEvent

    event = RevisionEvent[event_name]
    body: revision_models.RevisionDecision = call.body
    why = body.comment or default_why
    try:
        revision = decide(_revisions(services), call.path.id, event, call.caller.who, why, datetime.now(UTC))
    except LookupError:
        raise ProblemError(
            404, "revision-not-found", f"There is no budget revision '{call.path.id}'."
        ) from None
    except IllegalRevisionTransitionError as refused:
        raise ProblemError(
            409,
            "revision-decided",
            f"The revision is {refused.status.value}; it cannot be {event.value} now.",
        ) from None
    return ok(_view(revision))


def _revisions(services: ApiServices) -> RevisionTable:
    if services.budget_revisions is None:
        raise ProblemError(503, "budget-revisions-unavailable", "Budget revisions are not set up here.")
    return services.budget_revisions


def _view(revision: BudgetRevision) -> revision_models.BudgetRevision:
    return revision_models.BudgetRevision(
        id=revision.id,
        status=revision.status.value,
        site=revision.site,
        period=f"{revision.period[:4]}-{revision.period[4:]}",
        account=revision.account,
        summary_category=revision.category,
        old_balance=float(revision.old_balance),
        new_balance=float(revision.new_balance),
        change=float(revision.new_balance - revision.old_balance),
        detected_at=revision.detected_at,
        history=[
            revision_models.RevisionStep(status=step.status.value, at=step.at, by=step.by, why=step.why)
            for step in revision.history
        ],
    )
