"""Invoice payment status from GP's receivables: paid, partially paid or open, on each PowerBill invoice.

The "payment processing" half of the billing integration (issue 5; DOMAIN.md
§10.6: no payment integration exists today). Each company's posted invoices
(``RMDTYPAL`` 1) are read from open transactions (``RM20101``) and history
(``RM30101``, where fully applied documents are moved): ``ORTRXAMT`` is the
invoice amount and ``CURTRXAM`` what is still open. The result lands on the
``bs_invoice`` the hub posted, found by the GP document number the poster
writes there (``bs_gpdocumentnumber``, alternate key ``bs_gpdocumentnumber_key``).

The three payment columns are hub-proposed (DOMAIN.md defines none): the
status as text, the amount due and the amount paid.

Rows are only updated, never created (``ConflictPolicy.UPDATE_ONLY``): a GP
document Dataverse holds no invoice for comes back ``not_found`` in the run's
problems. Only documents of PowerBill batches are read (``yyyyMMPOWERBILL…``,
also as GP's 15-character ``BACHNUMB`` keeps it, or the compact
``yyyyMMPByyMMdd``), so invoices keyed in GP by hand are not even asked about.

A full read each run; the engine's fingerprints keep an unchanged status
from being sent again. A document found both open and in history (moved
between the two reads) is taken from history, read last.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from sqlalchemy import Engine, Select, column, or_, select, table

from shared.connectors.dataverse.sink import ConflictPolicy, DataverseTarget
from shared.pipeline.stream import ReadWindow, Record, Row, Stream
from shared.sql.engines import stream_rows

STREAM = "gp_invoice_payment_status"
COMPANIES = ("TOWNE", "ENC", "UPP")

DOCUMENT_NUMBER = "bs_gpdocumentnumber"
PAYMENT_STATUS = "bs_gppaymentstatus"
AMOUNT_DUE = "bs_gpamountdue"
AMOUNT_PAID = "bs_gpamountpaid"
TARGET = DataverseTarget(
    entity_set="bs_invoices", alternate_key=(DOCUMENT_NUMBER,), conflict_policy=ConflictPolicy.UPDATE_ONLY
)

OPEN = "Open"
PARTIALLY_PAID = "Partially paid"
PAID = "Paid"
VOIDED = "Voided"

_CENT = Decimal("0.01")
INVOICE = 1  # RMDTYPAL
# Today's "202504POWERBILL2025-04-30" (or the first 15 characters GP's BACHNUMB keeps) and the compact
# "202504PB250430" (billing.BatchIdStyle).
POWERBILL_BATCH = re.compile(r"^\d{6}(POWERBILL|PB\d{6}$)")


def _invoices(name: str) -> Select[Any]:
    documents = table(
        name, *(column(c) for c in ("DOCNUMBR", "BACHNUMB", "ORTRXAMT", "CURTRXAM", "VOIDSTTS"))
    )
    documents.append_column(column("RMDTYPAL"))
    c = documents.c
    return select(
        c.DOCNUMBR.label("document_number"),
        c.BACHNUMB.label("batch_id"),
        c.ORTRXAMT.label("original"),
        c.CURTRXAM.label("open_amount"),
        c.VOIDSTTS.label("voided"),
    ).where(
        c.RMDTYPAL == INVOICE,
        # Narrows to batches that can be PowerBill's (history holds years of documents); the pattern decides.
        or_(c.BACHNUMB.like("%POWERBILL%"), c.BACHNUMB.like("%PB%")),
    )


# Open first, history last: a document caught mid-move is settled by its history row.
_READS = (_invoices("RM20101"), _invoices("RM30101"))

DocumentNumber = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=21)]


class GpInvoiceBalance(BaseModel):
    """One posted GP invoice: what it was for and what is still open on it."""

    model_config = ConfigDict(str_strip_whitespace=True)

    company: str
    document_number: DocumentNumber
    batch_id: str
    original: Decimal = Field(ge=0)
    open_amount: Decimal = Field(ge=0, description="CURTRXAM, GP's open balance, is never negative")
    voided: bool


def payment_status(invoice: GpInvoiceBalance) -> str:
    if invoice.voided:
        return VOIDED
    if invoice.open_amount == 0:
        return PAID
    if invoice.open_amount < invoice.original:
        return PARTIALLY_PAID
    return OPEN


def to_invoice_payment(invoice: GpInvoiceBalance) -> Record | None:
    """The ``bs_invoice`` payment columns; None (skipped) for a document no PowerBill batch posted."""
    if not POWERBILL_BATCH.match(invoice.batch_id):
        return None
    due = Decimal(0) if invoice.voided else invoice.open_amount
    paid = Decimal(0) if invoice.voided else invoice.original - invoice.open_amount
    return {
        DOCUMENT_NUMBER: invoice.document_number,
        PAYMENT_STATUS: payment_status(invoice),
        AMOUNT_DUE: float(due.quantize(_CENT)),
        AMOUNT_PAID: float(paid.quantize(_CENT)),
    }


def read_invoice_balances(
    company_engine: Callable[[str], Engine], companies: Sequence[str], page_rows: int
) -> Iterator[Sequence[Row]]:
    for company in companies:
        engine = company_engine(company)
        for statement in _READS:
            for page in stream_rows(engine, statement, page_rows):
                yield [{**row, "company": company} for row in page]


def invoice_payment_status_stream(
    company_engine: Callable[[str], Engine],
    companies: Sequence[str] = COMPANIES,
    page_rows: int = 5000,
) -> Stream[GpInvoiceBalance]:
    """The ``gp_invoice_payment_status`` stream over ``companies``, each read through ``company_engine``."""
    chosen = tuple(companies)

    def read(_: ReadWindow) -> Iterator[Sequence[Row]]:
        return read_invoice_balances(company_engine, chosen, page_rows)

    return Stream(name=STREAM, model=GpInvoiceBalance, read=read, transform=to_invoice_payment, target=TARGET)
