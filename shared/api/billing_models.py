"""The billing readiness and reconciliation calls' inputs and answers (``/v1/billing/...``)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from shared.api.models import PERIOD_PATTERN, ApiInput, ApiModel

SITES_PATTERN = r"^[0-9]{1,4}(,[0-9]{1,4}){0,49}$"
BlockerKind = Literal[
    "no-gp-customer",
    "no-billing-email",
    "inactive-gl-account",
    "closed-fiscal-period",
    "no-contract",
    "rss-not-ready",
]
DifferenceKind = Literal["sent-not-in-gp", "in-gp-twice", "amount-differs", "posted-without-statement"]


class BillingReadinessQuery(ApiInput):
    period: str = Field(
        pattern=PERIOD_PATTERN, title="Billing Month", description="The month to be billed, as yyyy-MM."
    )
    sites: str | None = Field(
        None,
        pattern=SITES_PATTERN,
        title="Sites",
        description="Only these sites, comma-separated (at most 50); every billed site when left out.",
    )


class BillingMonthQuery(ApiInput):
    period: str = Field(
        pattern=PERIOD_PATTERN, title="Billing Month", description="The month billed, as yyyy-MM."
    )


class SiteBlockerView(ApiModel):
    """One thing that would stop the site's invoice."""

    kind: BlockerKind = Field(
        description="no-gp-customer, no-billing-email, inactive-gl-account, closed-fiscal-period, no-contract "
        "or rss-not-ready."
    )
    detail: str = Field(description="What is missing or closed, naming the table, account or period.")


class SiteReadinessView(ApiModel):
    """A site the month's run will bill, and what would stop it."""

    site_number: str = Field(description="The site's four-digit number.")
    site_name: str | None = Field(None, description="The site's name in PowerBill.")
    company: str = Field(title="GP Company", description="The GP company its GL string posts to.")
    billing_type: Literal["arrears", "advanced"] | None = Field(
        None, description="How its contract bills: arrears sites need a revenue submission ready first."
    )
    ready: bool = Field(description="True when nothing would stop its invoice.")
    blockers: list[SiteBlockerView] = Field(description="What would stop it, one entry per kind.")


class BillingReadiness(ApiModel):
    """Every site the month's billing run will bill, each with its blockers."""

    period: str = Field(description="The month to be billed, as yyyy-MM.")
    sites: list[SiteReadinessView] = Field(description="The billed sites, by site number.")
    blocked: int = Field(description="How many of them something would stop.")


class GpDocumentView(ApiModel):
    """One document GP holds for the invoice."""

    company: str = Field(title="GP Company", description="The GP company (database) holding it.")
    table: str = Field(description="The GP table: RM20101 open, RM30101 history, PM10000/PM20000 payables.")
    batch_id: str = Field(title="Batch ID", description="The GP batch it was posted in.")
    amount: float = Field(description="GP's amount for it (ORTRXAMT, or a credit's DOCAMNT).")
    payment_status: str | None = Field(
        None, description="Open, Partially paid, Paid or Voided, from GP's open balance (receivables only)."
    )


class AuditEntryView(ApiModel):
    """A SmartConnect request that carried the document (bs_glrequestlog)."""

    status: Literal["pending", "success", "fail"] = Field(description="How the request ended.")
    created_on: str | None = Field(None, description="When the request was logged.")


class ReconciledInvoiceView(ApiModel):
    """One invoice beside what GP holds for it, or a GP document no invoice names."""

    site_number: str = Field(description="The site billed (from the statement, or GP's customer).")
    document_number: str = Field(description="The GP document number: the invoice number without dashes.")
    invoice_number: str | None = Field(
        None, description="The PowerBill invoice number; absent for a GP stray."
    )
    statement_id: str | None = Field(None, title="Statement ID", description="The bs_billingstatement's id.")
    statement_status: str | None = Field(None, description="The statement's status, as PowerBill names it.")
    statement_amount: float | None = Field(None, description="The invoice's amount in Dataverse (bs_amount).")
    sent: bool = Field(
        description="Whether the invoice was sent to GP (statement SENT or GP's number written back)."
    )
    gp_documents: list[GpDocumentView] = Field(
        title="GP Documents", description="Every document GP holds with this number, in every company."
    )
    gp_amount: float | None = Field(
        None, title="GP Amount", description="GP's amount, signed as Dataverse's."
    )
    payment_status: str | None = Field(None, description="GP's payment status of the invoice.")
    audit_trail: list[AuditEntryView] = Field(description="The bs_glrequestlog requests that carried it.")
    differences: list[DifferenceKind] = Field(
        description="What disagrees between Dataverse and GP, if anything."
    )


class DifferenceView(ApiModel):
    """One difference between what PowerBill billed and what GP holds."""

    kind: DifferenceKind = Field(
        description="sent-not-in-gp, in-gp-twice, amount-differs or posted-without-statement."
    )
    site_number: str = Field(description="The site billed.")
    document_number: str = Field(description="The GP document number concerned.")


class BillingReconciliation(ApiModel):
    """The month's invoices against GP, and every difference."""

    period: str = Field(description="The month billed, as yyyy-MM.")
    invoices: list[ReconciledInvoiceView] = Field(description="Each invoice and stray GP document, by site.")
    differences: list[DifferenceView] = Field(
        description="Every difference, one entry per kind and document."
    )
