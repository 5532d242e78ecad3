"""What GP's company databases say about a billing month: customer cards and the month's PowerBill documents.

Customers are ``RM00101`` (PowerBill's ``CUSTNMBR`` is the site number,
DOMAIN.md §3 A). A month's documents are the receivables invoices
(``RMDTYPAL`` 1, open ``RM20101`` and history ``RM30101``) and the payables
credits (unposted ``PM10000``, open ``PM20000``) whose batch is one of the
month's PowerBill batches (``yyyyMMPOWERBILL…`` or ``yyyyMMPB…``: the batch id
starts with the service month, ``billing.batch_id``) or whose number is one
the month's invoices carry (a document posted into a batch keyed by hand is
still found). Each table and company is searched, so a document GP holds
twice is seen twice.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import Connection, Engine, bindparam, text

from shared.connectors.great_plains.receivables import POWERBILL_BATCH, GpInvoiceBalance, payment_status
from shared.sites import site_number

_CHUNK = 200  # document numbers per IN list
_RECEIVABLES = ("RM20101", "RM30101")
_PAYABLES = ("PM10000", "PM20000")


@dataclass(frozen=True)
class GpCustomerCard:
    number: str
    on_hold: bool


@dataclass(frozen=True)
class GpBilledDocument:
    """One document in one GP table of one company."""

    company: str
    table: str
    site_number: str  # the receivables customer (CUSTNMBR) as a site; empty for payables
    document_number: str
    batch_id: str
    amount: Decimal  # what the document is for: ORTRXAMT (receivables) or DOCAMNT (payables)
    payment_status: str | None  # receivables only: Open, Partially paid, Paid or Voided


class GpBooks:
    """Read-only look-ups of billing facts in each GP company; ``company_engine`` gives a company's engine."""

    def __init__(self, company_engine: Callable[[str], Engine], companies: Sequence[str]) -> None:
        self._company_engine = company_engine
        self.companies = tuple(companies)

    def customers(self, company: str) -> dict[str, GpCustomerCard]:
        """The company's customer cards by customer number (trimmed: GP pads ``char`` columns)."""
        with self._company_engine(company).connect() as connection:
            rows = connection.execute(text("SELECT CUSTNMBR, HOLD FROM RM00101")).all()
        return {str(number).strip(): GpCustomerCard(str(number).strip(), bool(hold)) for number, hold in rows}

    def month_documents(self, period_prefix: str, numbers: Sequence[str]) -> list[GpBilledDocument]:
        """Every company's documents of the month's PowerBill batches (``period_prefix`` is ``yyyyMM``) or
        numbered as one of ``numbers``."""
        found: dict[tuple[str, str, str, str], GpBilledDocument] = {}
        chunks = [numbers[start : start + _CHUNK] for start in range(0, len(numbers), _CHUNK)] or [[]]
        for company in self.companies:
            with self._company_engine(company).connect() as connection:
                for chunk in chunks:
                    for document in self._read(connection, company, period_prefix, chunk):
                        # A document read again through a second chunk's batch term is the same row.
                        found.setdefault(
                            (document.company, document.table, document.document_number, document.batch_id),
                            document,
                        )
        return sorted(found.values(), key=lambda d: (d.document_number, d.company, d.table))

    def _read(
        self, connection: Connection, company: str, period_prefix: str, numbers: Sequence[str]
    ) -> list[GpBilledDocument]:
        documents: list[GpBilledDocument] = []
        wanted = {"prefix": f"{period_prefix}%", "numbers": list(numbers) or [""]}
        for name in _RECEIVABLES:
            query = text(
                f"SELECT DOCNUMBR, BACHNUMB, ORTRXAMT, CURTRXAM, VOIDSTTS, CUSTNMBR FROM {name} "  # noqa: S608 - fixed names
                "WHERE RMDTYPAL = 1 AND (BACHNUMB LIKE :prefix OR DOCNUMBR IN :numbers)"
            ).bindparams(bindparam("numbers", expanding=True))
            for number, batch, original, open_amount, voided, customer in connection.execute(query, wanted):
                batch_id = str(batch or "").strip()
                if not (POWERBILL_BATCH.match(batch_id) or str(number).strip() in numbers):
                    continue
                balance = GpInvoiceBalance(
                    company=company,
                    document_number=str(number).strip(),
                    batch_id=batch_id,
                    original=Decimal(str(original or 0)),
                    open_amount=Decimal(str(open_amount or 0)),
                    voided=bool(voided),
                )
                documents.append(
                    GpBilledDocument(
                        company,
                        name,
                        site_number(str(customer or "")) or "",
                        balance.document_number,
                        batch_id,
                        balance.original.quantize(Decimal("0.01")),
                        payment_status(balance),
                    )
                )
        for name in _PAYABLES:
            query = text(
                f"SELECT DOCNUMBR, BACHNUMB, DOCAMNT FROM {name} "  # noqa: S608 - fixed names
                "WHERE BACHNUMB LIKE :prefix OR DOCNUMBR IN :numbers"
            ).bindparams(bindparam("numbers", expanding=True))
            for number, batch, amount in connection.execute(query, wanted):
                batch_id = str(batch or "").strip()
                if not (POWERBILL_BATCH.match(batch_id) or str(number).strip() in numbers):
                    continue
                documents.append(
                    GpBilledDocument(
                        company,
                        name,
                        "",
                        str(number).strip(),
                        batch_id,
                        Decimal(str(amount or 0)).quantize(Decimal("0.01")),
                        None,
                    )
                )
        return documents
