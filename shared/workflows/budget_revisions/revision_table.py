"""Budget revisions in Table storage, filed as the hub's other records are (``shared.platform.indexed_table``).

Each revision is its JSON in the ``revisions`` partition of the budgets table
(``<STATE_TABLE_PREFIX>Budgets``), filed by detection time and by status,
newest first, so "pending revisions" is one query. A change is a read, a
``move`` and a write at the read's ETag: an approver and a run deciding the
same revision at once end with one decision, and the loser sees the other's.
Observers hear of every write (its event on the run-events topic).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from shared.observers import tell
from shared.platform.blob_store import BlobStore
from shared.platform.conflicts import StateConflictError
from shared.platform.indexed_table import IndexedDocuments, inverted_time
from shared.platform.table_documents import TableDocuments
from shared.platform.table_store import TableStore, key_part, rows_between
from shared.workflows.budget_revisions.revisions import BudgetRevision

REVISIONS_PARTITION = "revisions"
SPILL_PREFIX = "tables/budget-revisions/"
_ATTEMPTS = 10
_PAGE = 1000

# Told of every write of a revision: the record before it (None for a new one) and after it.
RevisionObserver = Callable[[BudgetRevision | None, BudgetRevision], None]


def _filed_as(document: Mapping[str, Any]) -> str:
    detected = datetime.fromisoformat(str(document["detected_at"]))
    return f"{inverted_time(detected)}|{key_part(str(document['id']))}"


def _index_rows(document: Mapping[str, Any]) -> list[str]:
    filed = _filed_as(document)
    return [f"all|{filed}", f"status|{key_part(str(document['status']))}|{filed}"]


def _columns(document: Mapping[str, Any]) -> dict[str, Any]:
    return {"Status": str(document["status"]), "Site": str(document["site"])}


class RevisionTable:
    """The budget revisions, in the budgets table."""

    def __init__(
        self, table: TableStore, spill: BlobStore, observers: Sequence[RevisionObserver] = ()
    ) -> None:
        self._revisions = IndexedDocuments(
            table, TableDocuments(spill, SPILL_PREFIX), REVISIONS_PARTITION, _index_rows, _columns
        )
        self._observers = observers

    @property
    def table(self) -> TableStore:
        return self._revisions.table

    def get(self, revision_id: str) -> BudgetRevision | None:
        found = self._revisions.read(revision_id)
        return BudgetRevision.model_validate(found.document) if found is not None else None

    def create(self, revision: BudgetRevision) -> bool:
        """File a new revision; False when one with its id (the same cell and change) is filed already."""
        try:
            self._revisions.insert(revision.id, revision.model_dump(mode="json"))
        except StateConflictError:
            return False
        tell(self._observers, None, revision, f"budget revision {revision.id}")
        return True

    def update(self, revision_id: str, change: Callable[[BudgetRevision], BudgetRevision]) -> BudgetRevision:
        """Read, change and write the revision back at its ETag, again if another writer got there first.

        ``change`` raises to refuse (``IllegalRevisionTransitionError``); ``LookupError`` when there is none.
        """
        for _ in range(_ATTEMPTS):
            found = self._revisions.read(revision_id)
            if found is None:
                raise LookupError(f"there is no budget revision {revision_id}")
            before = BudgetRevision.model_validate(found.document)
            changed = change(before).model_copy(update={"version": before.version + 1})
            try:
                self._revisions.replace(found, changed.model_dump(mode="json"))
            except StateConflictError:
                continue
            tell(self._observers, before, changed, f"budget revision {changed.id} v{changed.version}")
            return changed
        raise StateConflictError(f"budget revision {revision_id} kept changing under this writer")

    def page(self, *, status: str | None = None, top: int = 100) -> list[BudgetRevision]:
        """Up to ``top`` revisions newest first, in ``status`` if given: one query."""
        low, high = rows_between(f"status|{key_part(status)}|" if status is not None else "all|")
        page = self._revisions.page(low, high, top=top)
        return [BudgetRevision.model_validate(document) for document in page.documents]

    def every(self) -> list[BudgetRevision]:
        """Every revision, for a budget_monthly run: a few a month, one query per thousand."""
        low, high = rows_between("all|")
        revisions: list[BudgetRevision] = []
        continuation: Mapping[str, str] | None = None
        while True:
            page = self._revisions.page(low, high, top=_PAGE, continuation=continuation)
            revisions.extend(BudgetRevision.model_validate(document) for document in page.documents)
            continuation = page.continuation
            if continuation is None:
                return revisions
