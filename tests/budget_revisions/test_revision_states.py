"""A budget revision's states as declared: every state is final or has a way out; the cut-off is a day of its year."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from shared.workflows.budget_revisions.approved_budget import FixedFrom
from shared.workflows.budget_revisions.revisions import (
    TRANSITIONS,
    IllegalRevisionTransitionError,
    RevisionEvent,
    RevisionStatus,
    detected,
    move,
)

FINAL = {RevisionStatus.APPLIED, RevisionStatus.REJECTED}
AT = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def test_every_state_is_final_or_has_a_way_out_and_final_ones_have_none() -> None:
    leaving = {status for status, _ in TRANSITIONS}
    assert leaving == set(RevisionStatus) - FINAL
    reachable = {RevisionStatus.DETECTED} | set(TRANSITIONS.values())
    assert reachable == set(RevisionStatus)


def test_an_approved_revision_cannot_be_approved_or_rejected_again() -> None:
    revision = detected("0170", "202603", "6005", "PAYROLL", Decimal("100"), Decimal("150"), AT)
    pending = move(revision, RevisionEvent.SUBMITTED, AT, "hub", "put to the approvers")
    approved = move(pending, RevisionEvent.APPROVED, AT, "entra:cfo", "ok")
    for event in (RevisionEvent.APPROVED, RevisionEvent.REJECTED, RevisionEvent.SUBMITTED):
        with pytest.raises(IllegalRevisionTransitionError):
            move(approved, event, AT, "entra:cfo", "again")
    assert [step.status for step in approved.history] == [
        RevisionStatus.DETECTED,
        RevisionStatus.PENDING_APPROVAL,
        RevisionStatus.APPROVED,
    ]


def test_the_same_change_of_a_cell_has_one_id_and_another_change_another() -> None:
    first = detected("0170", "202603", "6005", "PAYROLL", Decimal("100"), Decimal("150.00"), AT)
    again = detected("0170", "202603", "6005", "PAYROLL", Decimal("100"), Decimal("150.00"), AT)
    other = detected("0170", "202603", "6005", "PAYROLL", Decimal("100"), Decimal("175"), AT)
    assert first.id == again.id != other.id
    assert first.id.startswith("0170-202603-6005-")


def test_a_year_is_fixed_from_its_cut_off_day() -> None:
    january = FixedFrom.parse("01-01")
    assert not january.is_fixed(2027, date(2026, 12, 31))  # budget season
    assert january.is_fixed(2027, date(2027, 1, 1))
    assert january.is_fixed(2026, date(2027, 1, 1))
    late = FixedFrom.parse("02-15")
    assert not late.is_fixed(2027, date(2027, 2, 14)) and late.is_fixed(2027, date(2027, 2, 15))
    with pytest.raises(ValueError):
        FixedFrom.parse("02-29")
