"""A budget revision and its life, declared once as data: detected → pending_approval → approved → applied.

The budget is fixed from January 1 of its year (DOMAIN.md §5). After that, a
``BUDGET_FINAL`` cell whose balance differs from the approved one is not loaded
over it: the hub records a revision (site, period, account, the approved and
the new balance, when it was detected), puts it to the approvers, and loads the
new balance only once someone with the approver role approved it. A rejected
revision never loads. The hub itself rejects a pending revision the source has
moved on from (superseded by a newer balance, or back to the approved one), so
every state is final or has a way out.

Every change goes through ``move`` inside an ETag-guarded write of the record
(``revision_table.py``), and is kept in ``history`` with who made it, when and
why: the audit of the approval lives with the revision it decided.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from types import MappingProxyType

from pydantic import BaseModel, Field


class RevisionStatus(StrEnum):
    DETECTED = "detected"  # recorded by the run that read it
    PENDING_APPROVAL = "pending_approval"  # put to the approvers (its event published)
    APPROVED = "approved"  # an approver said yes; the next budget_monthly run loads it
    APPLIED = "applied"  # a budget_monthly run staged the new balance for Dataverse
    REJECTED = "rejected"  # an approver said no, or the source moved on; never loads


class RevisionEvent(StrEnum):
    SUBMITTED = "submitted"
    APPROVED = "approved"
    REJECTED = "rejected"
    APPLIED = "applied"


_S = RevisionStatus
TRANSITIONS: Mapping[tuple[RevisionStatus, RevisionEvent], RevisionStatus] = MappingProxyType(
    {
        (_S.DETECTED, RevisionEvent.SUBMITTED): _S.PENDING_APPROVAL,
        (_S.DETECTED, RevisionEvent.REJECTED): _S.REJECTED,  # superseded before it was put to anyone
        (_S.PENDING_APPROVAL, RevisionEvent.APPROVED): _S.APPROVED,
        (_S.PENDING_APPROVAL, RevisionEvent.REJECTED): _S.REJECTED,
        (_S.APPROVED, RevisionEvent.APPLIED): _S.APPLIED,
    }
)
OPEN: frozenset[RevisionStatus] = frozenset({_S.DETECTED, _S.PENDING_APPROVAL})
# What stands as the approved budget once decided.
STANDING: frozenset[RevisionStatus] = frozenset({_S.APPROVED, _S.APPLIED})
HUB = "hub"  # who the hub's own transitions name


class IllegalRevisionTransitionError(Exception):
    """The revision is in a status the event cannot move it on from (decided already, or never could)."""

    def __init__(self, revision: BudgetRevision, event: RevisionEvent) -> None:
        super().__init__(
            f"budget revision {revision.id} is {revision.status.value}; it cannot be {event.value}"
        )
        self.status = revision.status


class RevisionStep(BaseModel):
    """One transition: the status it reached, when, who made it and why."""

    status: RevisionStatus
    at: datetime
    by: str
    why: str


class BudgetRevision(BaseModel):
    """A fixed year's budget cell whose source balance differs from the approved one."""

    id: str
    site: str
    period: str  # yyyyMM, as BUDGET_FINAL holds it
    account: str
    category: str
    old_balance: Decimal  # the approved balance when it was detected
    new_balance: Decimal  # BUDGET_FINAL's balance then
    detected_at: datetime
    status: RevisionStatus = RevisionStatus.DETECTED
    version: int = 1
    history: list[RevisionStep] = Field(default_factory=list)

    @property
    def cell(self) -> tuple[str, str, str]:
        return (self.site, self.period, self.account)

    @property
    def decided_at(self) -> datetime:
        """When it last changed status (its detection, if never)."""
        return self.history[-1].at if self.history else self.detected_at


def revision_id(site: str, period: str, account: str, old: Decimal, new: Decimal) -> str:
    """One id per cell and change, so a run that meets the same change again finds its revision."""
    digest = hashlib.sha256(f"{site}|{period}|{account}|{old:f}|{new:f}".encode()).hexdigest()[:10]
    return f"{site}-{period}-{account}-{digest}"


def detected(
    site: str, period: str, account: str, category: str, old: Decimal, new: Decimal, at: datetime
) -> BudgetRevision:
    step = RevisionStep(
        status=RevisionStatus.DETECTED, at=at, by=HUB, why="BUDGET_FINAL differs from the approved budget"
    )
    return BudgetRevision(
        id=revision_id(site, period, account, old, new),
        site=site,
        period=period,
        account=account,
        category=category,
        old_balance=old,
        new_balance=new,
        detected_at=at,
        history=[step],
    )


def move(revision: BudgetRevision, event: RevisionEvent, at: datetime, by: str, why: str) -> BudgetRevision:
    """The revision after ``event``, with its step in the history; ``IllegalRevisionTransitionError`` if it cannot."""
    to = TRANSITIONS.get((revision.status, event))
    if to is None:
        raise IllegalRevisionTransitionError(revision, event)
    step = RevisionStep(status=to, at=at, by=by, why=why)
    return revision.model_copy(update={"status": to, "history": [*revision.history, step]})
