"""The month's reconciliation: each PowerBill invoice beside what GP holds for it, and every difference.

Audit and compliance ask for it after the billing window (DOMAIN.md §7: the
first ~5 days of the month), since today nothing compares what was billed with
what GP holds (§10.3, §10.6). Per site and invoice a line carries the statement
amount in Dataverse, GP's documents and amounts, the payment status GP's open
balance gives, and the audit trail (``bs_glrequestlog`` requests naming the
document). GP's document number is the invoice number without its dashes, as
the poster writes it (``billing.py``). The differences, one each:

- ``sent-not-in-gp``: the invoice was sent (statement SENT, or GP's number
  written back) and no GP company holds its document;
- ``in-gp-twice``: GP holds the document more than once (two companies, or
  open and history, or receivables and payables);
- ``amount-differs``: a GP document's amount is not the invoice's
  (receivables ``ORTRXAMT`` = amount; a credit's payables ``DOCAMNT`` = minus the amount);
- ``posted-without-statement``: a document of the month's PowerBill batches
  that no invoice of the month's statements names.

An invoice not yet sent and not in GP is no difference: it is still to be billed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from shared.workflows.billing.gp_books import GpBilledDocument, GpBooks
from shared.workflows.billing.powerbill import (
    STATEMENT_STATUSES,
    AuditEntry,
    PowerBillInvoice,
    PowerBillReader,
    month_start,
)

PAYABLES_TABLES = frozenset({"PM10000", "PM20000"})


class Difference(StrEnum):
    SENT_NOT_IN_GP = "sent-not-in-gp"
    IN_GP_TWICE = "in-gp-twice"
    AMOUNT_DIFFERS = "amount-differs"
    POSTED_WITHOUT_STATEMENT = "posted-without-statement"


@dataclass(frozen=True)
class ReconciledLine:
    """One invoice (or one GP document no invoice names) with what each side holds."""

    site_number: str
    document_number: str
    invoice: PowerBillInvoice | None
    documents: tuple[GpBilledDocument, ...]
    audit: tuple[AuditEntry, ...]
    differences: tuple[Difference, ...]

    @property
    def statement_status(self) -> str | None:
        status = self.invoice.statement_status if self.invoice else None
        return STATEMENT_STATUSES.get(status, str(status)) if status is not None else None

    @property
    def gp_amount(self) -> Decimal | None:
        """GP's amount as Dataverse signs it (a credit's payables document is negative here)."""
        if not self.documents:
            return None
        first = self.documents[0]
        return -first.amount if first.table in PAYABLES_TABLES else first.amount

    @property
    def payment_status(self) -> str | None:
        return next((d.payment_status for d in self.documents if d.payment_status), None)


@dataclass(frozen=True)
class Reconciliation:
    period: str
    lines: tuple[ReconciledLine, ...] = field(default_factory=tuple)

    @property
    def differences(self) -> list[tuple[ReconciledLine, Difference]]:
        return [(line, difference) for line in self.lines for difference in line.differences]


def gp_document_number(invoice_number: str) -> str:
    """The number the poster gives the invoice's GP document: its invoice number without dashes."""
    return invoice_number.replace("-", "")


def _signed(document: GpBilledDocument) -> Decimal:
    return -document.amount if document.table in PAYABLES_TABLES else document.amount


def invoice_differences(
    invoice: PowerBillInvoice, documents: Sequence[GpBilledDocument]
) -> tuple[Difference, ...]:
    """The differences of one invoice against the GP documents bearing its number."""
    if not documents:
        return (Difference.SENT_NOT_IN_GP,) if invoice.sent else ()
    found: list[Difference] = []
    if len(documents) > 1:
        found.append(Difference.IN_GP_TWICE)
    if any(_signed(document) != invoice.amount for document in documents):
        found.append(Difference.AMOUNT_DIFFERS)
    return tuple(found)


def reconcile(
    period: str,
    invoices: Sequence[PowerBillInvoice],
    documents: Sequence[GpBilledDocument],
    audit: Sequence[AuditEntry],
) -> Reconciliation:
    """Lines up invoices and GP documents by document number; GP documents left over are posted with no statement."""
    by_number: dict[str, list[GpBilledDocument]] = defaultdict(list)
    for document in documents:
        by_number[document.document_number].append(document)
    lines = []
    for invoice in invoices:
        number = gp_document_number(invoice.invoice_number)
        held = tuple(by_number.pop(number, ()))
        trail = tuple(e for e in audit if e.site_number == invoice.site_number and e.names(number))
        lines.append(
            ReconciledLine(
                invoice.site_number, number, invoice, held, trail, invoice_differences(invoice, held)
            )
        )
    for number, strays in sorted(by_number.items()):
        site = next((d.site_number for d in strays if d.site_number), "")
        trail = tuple(e for e in audit if e.names(number))
        lines.append(
            ReconciledLine(site, number, None, tuple(strays), trail, (Difference.POSTED_WITHOUT_STATEMENT,))
        )
    return Reconciliation(period, tuple(lines))


class BillingReconciliation:
    """Reads a month from Dataverse and GP and reconciles it."""

    def __init__(self, powerbill: PowerBillReader, books: GpBooks) -> None:
        self._powerbill = powerbill
        self._books = books

    def run(self, period: str) -> Reconciliation:
        invoices = self._powerbill.invoices(period)
        numbers = sorted({gp_document_number(invoice.invoice_number) for invoice in invoices})
        documents = self._books.month_documents(f"{month_start(period):%Y%m}", numbers)
        sites = {invoice.site_number for invoice in invoices} | {
            document.site_number for document in documents
        }
        audit = self._powerbill.audit_entries(sorted(sites - {""}))
        return reconcile(period, invoices, documents, audit)
