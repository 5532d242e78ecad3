"""PowerBill statements to GP documents, by the rules Towne Park's GreatPlainsDataTransfer flow follows today.

DOMAIN.md §3 A is the source: the company comes from the site's GL string,
positive invoices go to receivables (``RMIMPV2``), zero and negative ones to
payables (``PMIMPV2``), and a parking-tax journal (``GLIMP``) follows when the
contract makes Towne Park responsible for parking tax. Each document is checked
to balance here, so an unbalanced invoice is refused with its reason and never
reaches SmartConnect.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum

from shared.connectors.great_plains.documents import (
    DocumentRefusedError,
    GpDocument,
    GpMap,
    JournalLine,
    check_balanced,
    money,
)

REVENUE_SHARE_CODE = "4790"
COMPANY_BY_GL_PREFIX: Mapping[str, str] = {"07": "ENC", "22": "UPP"}
DEFAULT_COMPANY = "TOWNE"
# The AR and parking-tax maps are hard-coded to TOWNE today; only AP's interID follows the company.
FIXED_INTER_ID = "TOWNE"
# "TEST" is a company override the flows use on test runs; its interID is TOWNE's.
INTER_ID_BY_COMPANY: Mapping[str, str] = {"TEST": "TOWNE"}
PARKING_TAX_LINE = "paidParkingTax"
DEPOSITED_REVENUE_LINE = "depositedRevenue"


class BatchIdStyle(StrEnum):
    """How batch ids are written (DOMAIN.md §10.3: today's ids are longer than GP's usual 15 characters).

    ``today`` keeps the flow's ``202504POWERBILL2025-04-30``; ``compact`` fits
    15 characters as ``202504PB250430``. Which one GP accepts depends on how
    SmartConnect's map treats ``BatchID``, which no source confirms.
    """

    TODAY = "today"
    COMPACT = "compact"


@dataclass(frozen=True)
class InvoiceLine:
    """One entry of ``bs_invoicedata``."""

    title: str
    code: str
    amount: Decimal
    line_item_type: str | None = None
    taxes_paid: Decimal = Decimal(0)


@dataclass(frozen=True)
class Invoice:
    """A ``bs_invoice`` row with its lines."""

    invoice_number: str
    amount: Decimal
    invoice_date: date
    lines: tuple[InvoiceLine, ...]


@dataclass(frozen=True)
class BillingStatement:
    """A ``bs_billingstatement`` with what its site, contract and overrides add to it."""

    statement_id: str
    site_number: str
    gl_string: str
    vendor_id: str
    service_period_start: date
    invoices: tuple[Invoice, ...]
    towne_park_pays_parking_tax: bool = False
    company_override: str | None = None


@dataclass(frozen=True)
class StatementPostings:
    """The documents a statement becomes, and the invoices refused with their reasons."""

    statement_id: str
    documents: tuple[GpDocument, ...]
    refused: tuple[DocumentRefusedError, ...]


def company_of(statement: BillingStatement) -> str:
    """``GPCompanyNameOverride`` if set, else the company the GL string names."""
    if statement.company_override:
        return statement.company_override
    return company_of_gl_string(statement.gl_string)


def company_of_gl_string(gl_string: str) -> str:
    """The GP company whose chart holds the GL string: its first two characters name it (DOMAIN.md §3 A)."""
    return COMPANY_BY_GL_PREFIX.get(gl_string[:2], DEFAULT_COMPANY)


def batch_id(service_period_start: date, invoice_date: date, style: BatchIdStyle) -> str:
    if style is BatchIdStyle.COMPACT:
        return f"{service_period_start:%Y%m}PB{invoice_date:%y%m%d}"
    return f"{service_period_start:%Y%m}POWERBILL{invoice_date:%Y-%m-%d}"


def gp_date(value: date) -> str:
    return f"{value:%m/%d/%Y}"


def statement_postings(
    statement: BillingStatement, style: BatchIdStyle = BatchIdStyle.TODAY
) -> StatementPostings:
    """Every GP document for the statement; an invoice that cannot balance is refused, the rest still go."""
    documents: list[GpDocument] = []
    refused: list[DocumentRefusedError] = []
    for invoice in statement.invoices:
        try:
            if invoice.amount > 0:
                documents.append(check_balanced(_receivable(statement, invoice, style)))
            else:
                documents.append(check_balanced(_payable(statement, invoice, style)))
        except DocumentRefusedError as refusal:
            refused.append(refusal)
    if statement.towne_park_pays_parking_tax and statement.invoices:
        tax = _parking_tax(statement, style)
        if tax is not None:
            try:
                documents.append(check_balanced(tax))
            except DocumentRefusedError as refusal:
                refused.append(refusal)
    return StatementPostings(statement.statement_id, tuple(documents), tuple(refused))


def _cost_center(statement: BillingStatement) -> str:
    return statement.gl_string[:2]


def _line_account(statement: BillingStatement, code: str) -> str:
    return f"{statement.gl_string}{code or REVENUE_SHARE_CODE}-{statement.site_number}"


def _posted_lines(invoice: Invoice) -> Iterable[InvoiceLine]:
    return (line for line in invoice.lines if line.amount != 0)


def _reference(statement: BillingStatement) -> str:
    return f"{statement.service_period_start:%Y%m}{statement.site_number}POWERBILL"


def _receivable(statement: BillingStatement, invoice: Invoice, style: BatchIdStyle) -> GpDocument:
    """AR invoice: each line credited (debited if negative), receivables debited with the invoice amount."""
    company = company_of(statement)
    cc = _cost_center(statement)
    number = invoice.invoice_number.replace("-", "")
    batch = batch_id(statement.service_period_start, invoice.invoice_date, style)
    lines = [
        JournalLine(_line_account(statement, line.code), debit=-line.amount)
        if line.amount < 0
        else JournalLine(_line_account(statement, line.code), credit=line.amount)
        for line in _posted_lines(invoice)
    ]
    if lines:
        lines.append(JournalLine(f"{cc}-00-0000-1200-0000", debit=invoice.amount))
    common = {
        "COMP": company,
        "BatchID": batch,
        "Origin": "Transaction Entry",
        "PostingDate": gp_date(invoice.invoice_date),
        "DocumentType": "1",
        "DocumentNumber": number,
        "CustomerID": statement.site_number,
        "Sales": money(invoice.amount),
        "Description": _reference(statement),
    }
    if invoice.invoice_date.day == 1:
        # Advance billing: the revenue is deferred until the service month.
        common["DeferredAccount"] = f"{cc}-00-0000-2450-0000"
    rows = tuple(
        {
            **common,
            "AccountNumber": line.account,
            "Debit": money(line.debit),
            "Credit": money(line.credit),
            "DistributionReference": _reference(statement),
        }
        for line in lines
    )
    return GpDocument(
        GpMap.RECEIVABLES, FIXED_INTER_ID, company, batch, number, statement.site_number, tuple(lines), rows
    )


def _payable(statement: BillingStatement, invoice: Invoice, style: BatchIdStyle) -> GpDocument:
    """AP document for a credit to the customer: each line debited (credited if positive), payables credited."""
    company = company_of(statement)
    cc = _cost_center(statement)
    number = invoice.invoice_number.replace("-", "")
    batch = batch_id(statement.service_period_start, invoice.invoice_date, style)
    lines = [
        JournalLine(_line_account(statement, line.code), credit=line.amount)
        if line.amount > 0
        else JournalLine(_line_account(statement, line.code), debit=-line.amount)
        for line in _posted_lines(invoice)
    ]
    if lines and invoice.amount != 0:
        lines.append(JournalLine(f"{cc}-00-0000-2000-0000", credit=-invoice.amount))
    common = {
        "COMPANY": company,
        "BATCHID": batch,
        "VENDORID": statement.vendor_id,
        "DOCNUMBR": number,
        "TRXDATE": gp_date(invoice.invoice_date),
        "DOCAMNT": money(-invoice.amount),
        "PONumber": invoice.invoice_number,
        "DSCRIPTN": _reference(statement),
    }
    rows = tuple(
        {
            **common,
            "ACCOUNT": line.account,
            "DEBIT": money(line.debit),
            "CREDIT": money(line.credit),
            "DISTTYPE": "2",
        }
        for line in lines
    )
    inter_id = INTER_ID_BY_COMPANY.get(company, company)
    return GpDocument(
        GpMap.PAYABLES, inter_id, company, batch, number, statement.site_number, tuple(lines), rows
    )


def _parking_tax(statement: BillingStatement, style: BatchIdStyle) -> GpDocument | None:
    """The parking-tax journal: revenue-share account debited, parking tax payable credited."""
    amount = sum(
        (
            line.amount if line.line_item_type == PARKING_TAX_LINE else line.taxes_paid
            for invoice in statement.invoices
            for line in invoice.lines
            if line.line_item_type in (PARKING_TAX_LINE, DEPOSITED_REVENUE_LINE)
        ),
        Decimal(0),
    )
    if amount == 0:
        return None
    company = company_of(statement)
    cc = _cost_center(statement)
    invoice_date = statement.invoices[0].invoice_date
    batch = batch_id(statement.service_period_start, invoice_date, style)
    reference = f"{statement.site_number} RC Parking Tax {statement.service_period_start:%Y%m}"
    lines = (
        JournalLine(_line_account(statement, REVENUE_SHARE_CODE), debit=amount),
        JournalLine(f"{cc}-00-0000-2030-0000", credit=amount),
    )
    common = {
        "COMPANY": company,
        "BATCHID": batch,
        "TRXDATE": gp_date(invoice_date),
        "REFRENCE": reference,
        "TRANTYPE": "N",
        "SRCDOC": "GJ",
        "CURRID": "US",
    }
    rows = tuple(
        {**common, "ACCOUNT": line.account, "DEBIT": money(line.debit), "CREDIT": money(line.credit)}
        for line in lines
    )
    return GpDocument(
        GpMap.JOURNAL, FIXED_INTER_ID, company, batch, reference, statement.site_number, lines, rows
    )
