"""The API's budget revision inputs and outputs (``/v1/budget/revisions``), in the API's camelCase models.

Balances are as ``BUDGET_FINAL`` holds them (internal revenue negative), so an
approver compares the revision with the EDW's own figures; ``change`` is the
difference an approval loads.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from shared.api.models import ADVANCED, ApiInput, ApiModel
from shared.query_values import QueryInt

RevisionState = Literal["detected", "pending_approval", "approved", "applied", "rejected"]
REVISION_ID_PATTERN = r"^\d{4}-\d{6}-[A-Za-z0-9]{1,20}-[0-9a-f]{10}$"


class RevisionQuery(ApiInput):
    status: RevisionState | None = Field(
        None, title="Status", description="Only revisions in this state (pending_approval: waiting for you)."
    )
    top: QueryInt = Field(
        100, ge=1, le=500, title="Page Size", description="Revisions to list, newest first."
    )


class RevisionPath(ApiInput):
    id: str = Field(
        pattern=REVISION_ID_PATTERN,
        title="Revision ID",
        description="The revision's id, from its event or the revision list.",
    )


class RevisionDecision(ApiInput):
    """Why the approver decided so; kept in the revision's history."""

    comment: str | None = Field(
        None, min_length=1, max_length=500, title="Comment", description="Why: kept with the decision."
    )


class RevisionStep(ApiModel):
    status: RevisionState = Field(title="Status", description="The state this step reached.")
    at: datetime = Field(title="At", description="When (UTC).")
    by: str = Field(title="By", description="Who: hub, or the approver's Entra ID object id.")
    why: str = Field(title="Why", description="The reason given.")


class BudgetRevision(ApiModel):
    """A fixed year's changed budget cell: loaded into Budget Monthly only once approved."""

    id: str = Field(title="Revision ID", description="Approve or reject the revision with this id.")
    status: RevisionState = Field(
        title="Status", description="detected, pending_approval, approved, applied (loaded) or rejected."
    )
    site: str = Field(title="Site", description="Four-digit site number.")
    period: str = Field(title="Period", description="The budget month, yyyy-MM.")
    account: str = Field(title="Main Account", description="The GP main account of the changed cell.")
    summary_category: str = Field(
        title="Summary Category",
        description="The account's IS_SUMMARY_CATEGORY (PAYROLL, INTERNAL REVENUE, ...).",
    )
    old_balance: float = Field(
        title="Approved Balance", description="The approved balance when the change was detected, as stored."
    )
    new_balance: float = Field(title="New Balance", description="BUDGET_FINAL's balance, as stored.")
    change: float = Field(title="Change", description="New balance minus approved balance.")
    detected_at: datetime = Field(title="Detected At", description="When the hub found the change (UTC).")
    history: list[RevisionStep] = Field(
        title="History",
        description="Every step: who moved it on, when and why.",
        json_schema_extra=ADVANCED,
    )


class RevisionPage(ApiModel):
    value: list[BudgetRevision] = Field(title="Revisions", description="Budget revisions, newest first.")
