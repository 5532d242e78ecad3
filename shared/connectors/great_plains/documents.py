"""A GP document as the hub posts it: one SmartConnect map run that must balance before it leaves.

Every document carries its journal lines (account, debit, credit) next to the
rows SmartConnect's map reads, so the hub can prove debits equal credits and
name every account it touches before GP sees anything. Its ``key`` is
deterministic (map, company, batch, document number, content hash), which is
what makes a redelivered posting recognisable as the same document.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

import orjson

CENT = Decimal("0.01")


class GpMap(StrEnum):
    """The SmartConnect maps Towne Park posts through."""

    RECEIVABLES = "RMIMPV2"
    PAYABLES = "PMIMPV2"
    JOURNAL = "GLIMP"


class DocumentRefusedError(Exception):
    """A document the hub will not send to GP; ``reason`` says why in words an operator can act on."""

    def __init__(self, document_number: str, reason: str) -> None:
        super().__init__(f"{document_number}: {reason}")
        self.document_number = document_number
        self.reason = reason


@dataclass(frozen=True)
class JournalLine:
    """One distribution: an account and the amount debited or credited to it (never both)."""

    account: str
    debit: Decimal = Decimal(0)
    credit: Decimal = Decimal(0)


@dataclass(frozen=True)
class GpDocument:
    """What one ``RunMapDataTable`` call posts: the map's rows plus the journal they amount to.

    ``document_number`` is the GP document number for RM/PM documents and the
    journal's reference for GL ones (GLIMP rows carry no document number).
    """

    map_id: GpMap
    inter_id: str
    company: str
    batch_id: str
    document_number: str
    site: str
    lines: tuple[JournalLine, ...]
    rows: tuple[Mapping[str, str], ...]
    # Unit accounts carry quantities, not money: GP posts them without an offsetting line.
    statistical: bool = False

    @property
    def debits(self) -> Decimal:
        return sum((line.debit for line in self.lines), Decimal(0))

    @property
    def credits(self) -> Decimal:
        return sum((line.credit for line in self.lines), Decimal(0))

    @property
    def accounts(self) -> frozenset[str]:
        return frozenset(line.account for line in self.lines)

    @property
    def content_hash(self) -> str:
        """SHA-256 of the rows exactly as they would be sent; any changed value is a different document."""
        body = orjson.dumps([list(row.items()) for row in self.rows])
        return hashlib.sha256(body).hexdigest()

    @property
    def key(self) -> str:
        """Deterministic identity: the same document posted twice has the same key."""
        parts = [self.map_id.value, self.company, self.batch_id, self.document_number, self.content_hash]
        return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:40]


def money(value: Decimal) -> str:
    """Amounts as GP takes them: two decimals, no thousands separator."""
    return f"{value.quantize(CENT):f}"


def quantity(value: Decimal) -> str:
    """Unit-account quantities as they came, in plain notation."""
    return f"{value.normalize():f}" if value else "0"


def check_balanced(document: GpDocument) -> GpDocument:
    """Return the document if it can go to GP, else raise ``DocumentRefusedError`` with the reason."""
    if not document.lines:
        raise DocumentRefusedError(document.document_number, "has no non-zero lines to post")
    for line in document.lines:
        if line.debit < 0 or line.credit < 0 or (line.debit and line.credit):
            raise DocumentRefusedError(
                document.document_number,
                f"line on {line.account} must be a debit or a credit, not both or negative",
            )
        if document.statistical:
            continue
        if line.debit.quantize(CENT) != line.debit or line.credit.quantize(CENT) != line.credit:
            raise DocumentRefusedError(
                document.document_number, f"line on {line.account} has more than two decimals"
            )
    if not document.statistical and document.debits != document.credits:
        raise DocumentRefusedError(
            document.document_number,
            f"does not balance: debits {money(document.debits)} != credits {money(document.credits)}",
        )
    return document
