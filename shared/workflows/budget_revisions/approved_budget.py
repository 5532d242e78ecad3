"""What stands of a fixed year's budget: the balances approved at its cut-off, plus the revisions approved since.

DOMAIN.md §5: "The budget is fixed from Jan 1". Until a year's cut-off
(``BUDGET_FIXED_FROM``, month and day of that year: ``01-01``) every balance of
that year loads as it is read: budget season. The first ``budget_monthly`` run
on or after the cut-off keeps the year's balances as read then as its approved
budget (``budget/approved/<year>.json`` in the state container); a change made
between the last run before the cut-off and that run is taken as part of the
approved budget.

From then on, each run compares every cell of the year (site, period, main
account) with what stands (the kept balances overlaid by approved revisions,
the latest decision first). A cell that differs becomes a revision, pending
approval, and its approved balance is what the run sums; an approved revision's
new balance is summed and the revision marked applied; a rejected one keeps
the approved balance. A pending revision the source has moved on from is
rejected by the hub, saying why. Only the eight summary categories are held:
statistic accounts are not in ``bs_budgetmonthly``.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from shared.connectors.edw.budget_monthly import AccountBalance
from shared.platform.blob_store import BlobStore
from shared.platform.conflicts import StateConflictError
from shared.sites import site_number
from shared.workflows.budget_revisions.revision_table import RevisionTable
from shared.workflows.budget_revisions.revisions import (
    HUB,
    OPEN,
    STANDING,
    BudgetRevision,
    IllegalRevisionTransitionError,
    RevisionEvent,
    RevisionStatus,
    detected,
    move,
    revision_id,
)

log = logging.getLogger(__name__)
Cell = tuple[str, str, str]  # site, period (yyyyMM), main account
APPROVED_PREFIX = "budget/approved/"


@dataclass(frozen=True)
class FixedFrom:
    """The day of its own year from which a year's budget is fixed (``BUDGET_FIXED_FROM``, ``MM-dd``)."""

    month: int = 1
    day: int = 1

    @classmethod
    def parse(cls, text: str) -> FixedFrom:
        month, day = (int(part) for part in text.split("-"))
        date(2001, month, day)  # a day every year has (not February 29), or ValueError
        return cls(month, day)

    def is_fixed(self, year: int, today: date) -> bool:
        """DOMAIN.md §5: the budget of ``year`` is fixed from this day of that year."""
        return today >= date(year, self.month, self.day)


class BudgetApprovals:
    """The ``ApprovedBudget`` of ``budget_monthly``: holds fixed years to their approved revisions."""

    def __init__(
        self,
        revisions: RevisionTable,
        state: BlobStore,
        fixed_from: FixedFrom,
        today: Callable[[], date],
        now: Callable[[], datetime],
    ) -> None:
        self._revisions = revisions
        self._state = state
        self._fixed_from = fixed_from
        self._today = today
        self._now = now

    def balances(self, source: Sequence[AccountBalance]) -> list[AccountBalance]:
        today = self._today()
        years: dict[int, list[AccountBalance]] = defaultdict(list)
        held: list[AccountBalance] = []
        for cell in source:
            if site_number(cell.cost_center) is None or not self._fixed_from.is_fixed(cell.year, today):
                held.append(cell)  # not a site (the stream skips it), or budget season: loads as read
            else:
                years[cell.year].append(cell)
        if not years:
            return held
        revisions: dict[Cell, list[BudgetRevision]] = defaultdict(list)
        for revision in self._revisions.every():
            revisions[revision.cell].append(revision)
        for year, cells in sorted(years.items()):
            held.extend(self._held_year(year, cells, revisions))
        return held

    def _held_year(
        self, year: int, cells: list[AccountBalance], revisions: dict[Cell, list[BudgetRevision]]
    ) -> list[AccountBalance]:
        kept = self._kept(year, cells)
        if kept is None:
            return cells  # the first run after the cut-off: these are the approved budget
        standing = dict(kept)
        for cell_revisions in revisions.values():
            decided = [r for r in cell_revisions if r.status in STANDING and int(r.period[:4]) == year]
            if decided:
                latest = max(decided, key=lambda r: r.decided_at)
                standing[latest.cell] = AccountBalance(*latest.cell, latest.category, latest.new_balance)
        source = {(cell.cost_center, cell.period, cell.account): cell for cell in cells}
        held: list[AccountBalance] = []
        for key in sorted(source.keys() | standing.keys()):
            read, approved = source.get(key), standing.get(key)
            new = read.balance if read is not None else Decimal(0)
            old = approved.balance if approved is not None else Decimal(0)
            if approved is not None:
                held.append(approved)  # a cell the approved budget lacks adds nothing until approved
            category = read.category if read is not None else standing[key].category
            self._compare(key, category, old, new, revisions.get(key, []))
        for cell_revisions in revisions.values():
            for revision in cell_revisions:
                if revision.status == RevisionStatus.APPROVED and int(revision.period[:4]) == year:
                    self._decide(revision, RevisionEvent.APPLIED, "summed into budget_monthly by this run")
        return held

    def _compare(
        self, key: Cell, category: str, old: Decimal, new: Decimal, revisions: Iterable[BudgetRevision]
    ) -> None:
        """Record a cell's revision when its balance differs; reject the open ones the source moved on from."""
        current = revision_id(*key, old, new) if new != old else None
        for revision in revisions:
            if revision.status in OPEN and revision.id != current:
                why = (
                    f"superseded: BUDGET_FINAL now holds {new:f}"
                    if current is not None
                    else "withdrawn: BUDGET_FINAL is back to the approved balance"
                )
                self._decide(revision, RevisionEvent.REJECTED, why)
        if current is None or any(revision.id == current for revision in revisions):
            return
        revision = detected(*key, category, old, new, self._now())
        if self._revisions.create(revision):
            self._decide(revision, RevisionEvent.SUBMITTED, "put to the budget approvers")
            log.info(
                "Budget revision %s pending approval: site %s period %s account %s, %s → %s",
                revision.id,
                *key,
                old,
                new,
            )

    def _decide(self, revision: BudgetRevision, event: RevisionEvent, why: str) -> None:
        def change(current: BudgetRevision) -> BudgetRevision:
            return move(current, event, self._now(), HUB, why)

        try:
            self._revisions.update(revision.id, change)
        except (IllegalRevisionTransitionError, StateConflictError) as error:
            log.info("Budget revision %s was decided meanwhile: %s", revision.id, error)

    def _kept(self, year: int, cells: list[AccountBalance]) -> dict[Cell, AccountBalance] | None:
        """The balances kept at the year's cut-off; None when this run is the first to keep them."""
        path = f"{APPROVED_PREFIX}{year}.json"
        found = self._state.read_json(path)
        if found is not None:
            kept: dict[Cell, AccountBalance] = {}
            for key, (category, balance) in found.value["cells"].items():
                site, period, account = key.split("|")
                kept[(site, period, account)] = AccountBalance(
                    site, period, account, category, Decimal(balance)
                )
            return kept
        document = {
            "year": year,
            "kept_at": self._now().isoformat(),
            "cells": {
                f"{c.cost_center}|{c.period}|{c.account}": [c.category, f"{c.balance:f}"] for c in cells
            },
        }
        try:
            self._state.write_json(path, document, None)
        except StateConflictError:
            return self._kept(year, cells)
        log.info("Budget %d is fixed: kept %d approved balances as read now", year, len(cells))
        return None
