"""Builders for PowerBill statements the way the sandbox and Dataverse hold them."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from shared.workflows.gp_posting.billing import BillingStatement, Invoice, InvoiceLine


def line(amount: str, code: str = "4791", kind: str | None = None, taxes_paid: str = "0") -> InvoiceLine:
    return InvoiceLine(
        title=f"{kind or 'fee'} {code}",
        code=code,
        amount=Decimal(amount),
        line_item_type=kind,
        taxes_paid=Decimal(taxes_paid),
    )


def invoice(
    number: str, *lines: InvoiceLine, on: date = date(2025, 4, 30), amount: str | None = None
) -> Invoice:
    total = sum((item.amount for item in lines), Decimal(0)) if amount is None else Decimal(amount)
    return Invoice(invoice_number=number, amount=total, invoice_date=on, lines=lines)


def statement(
    site: str = "0123",
    *invoices: Invoice,
    gl_string: str = "02-03-2106-",
    parking_tax: bool = False,
    company_override: str | None = None,
    period: date = date(2025, 4, 1),
) -> BillingStatement:
    return BillingStatement(
        statement_id=f"stmt-{site}-{period:%Y%m}",
        site_number=site,
        gl_string=gl_string,
        vendor_id=f"V{site}",
        service_period_start=period,
        invoices=invoices,
        towne_park_pays_parking_tax=parking_tax,
        company_override=company_override,
    )
