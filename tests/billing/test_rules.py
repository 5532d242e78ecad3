"""The readiness and reconciliation rules on hand-made facts: each blocker and difference alone, and none."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from shared.workflows.billing.gp_books import GpBilledDocument, GpCustomerCard
from shared.workflows.billing.powerbill import SENT, Contract, PowerBillInvoice, Site
from shared.workflows.billing.readiness import Blocker, SiteFacts, site_blockers
from shared.workflows.billing.reconciliation import Difference, reconcile

SITE = Site("id-1", "0170", "Hotel", "02-01-3000-", "ap@example.com", None)
READY = SiteFacts(
    SITE, "TOWNE", Contract("id-1", arrears=True), GpCustomerCard("0170", False), (), None, True
)


def invoice(number: str, amount: str, status: int | None = SENT) -> PowerBillInvoice:
    return PowerBillInvoice("s-1", status, "0170", number, Decimal(amount), "")


def document(number: str, amount: str, table: str = "RM20101", company: str = "TOWNE") -> GpBilledDocument:
    return GpBilledDocument(
        company, table, "0170", number, "203305POWERBILL2033-05-31", Decimal(amount), None
    )


def kinds(facts: SiteFacts) -> list[Blocker]:
    return [blocker.blocker for blocker in site_blockers(facts)]


def test_a_site_with_everything_in_place_has_no_blocker_and_each_gap_is_one_blocker() -> None:
    assert kinds(READY) == []
    assert kinds(replace(READY, gp_customer=None)) == [Blocker.NO_GP_CUSTOMER]
    assert kinds(replace(READY, site=replace(SITE, billing_email=""))) == [Blocker.NO_BILLING_EMAIL]
    assert kinds(replace(READY, site=replace(SITE, gl_string=""))) == [Blocker.INACTIVE_GL_ACCOUNT]
    assert kinds(replace(READY, inactive_accounts=("x",))) == [Blocker.INACTIVE_GL_ACCOUNT]
    assert kinds(replace(READY, period_refusal="closed")) == [Blocker.CLOSED_FISCAL_PERIOD]
    assert kinds(replace(READY, contract=None, rss_ready=False)) == [Blocker.NO_CONTRACT]
    assert kinds(replace(READY, rss_ready=False)) == [Blocker.RSS_NOT_READY]
    assert kinds(replace(READY, rss_ready=False, contract=Contract("id-1", arrears=False))) == []


def test_reconcile_names_each_difference_once_and_leaves_matching_and_unsent_invoices_alone() -> None:
    invoices = [
        invoice("0170-203305-01-00", "100.00"),
        invoice("0171-203305-01-00", "50.00"),
        invoice("0172-203305-01-00", "70.00"),
        invoice("0173-203305-01-00", "20.00"),
        invoice("0174-203305-01-00", "-30.00"),
        invoice("0175-203305-01-00", "10.00", status=None),
    ]
    documents = [
        document("01702033050100", "100.00"),
        document("01722033050100", "70.00"),
        document("01722033050100", "70.00", company="ENC"),
        document("01732033050100", "25.00"),
        document("01742033050100", "30.00", table="PM20000"),
        document("01792033050100", "5.00"),
    ]

    found = reconcile("2033-05", invoices, documents, ())

    assert [(line.document_number, d) for line, d in found.differences] == [
        ("01712033050100", Difference.SENT_NOT_IN_GP),
        ("01722033050100", Difference.IN_GP_TWICE),
        ("01732033050100", Difference.AMOUNT_DIFFERS),
        ("01792033050100", Difference.POSTED_WITHOUT_STATEMENT),
    ]
    assert len(found.lines) == len(invoices) + 1  # every invoice, and the stray GP document


@settings(max_examples=50, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 5), st.integers(-3, 3), st.booleans()), max_size=6, unique_by=lambda t: t[0]
    ),
    st.lists(
        st.tuples(st.integers(0, 8), st.integers(-3, 3), st.sampled_from(("RM20101", "RM30101", "PM20000"))),
        max_size=8,
    ),
)
def test_reconcile_accounts_for_every_invoice_and_every_gp_document_exactly_once(
    billed: list[tuple[int, int, bool]], held: list[tuple[int, int, str]]
) -> None:
    invoices = [
        invoice(f"01{n:02d}-203305-01-00", f"{amount}.00", SENT if sent else None)
        for n, amount, sent in billed
    ]
    documents = [document(f"01{n:02d}2033050100", f"{abs(amount)}.00", table) for n, amount, table in held]

    found = reconcile("2033-05", invoices, documents, ())

    assert sorted(line.invoice.invoice_number for line in found.lines if line.invoice) == sorted(
        i.invoice_number for i in invoices
    )
    assert sorted(id(d) for line in found.lines for d in line.documents) == sorted(id(d) for d in documents)
    for line in found.lines:
        if line.invoice is None:
            assert line.differences == (Difference.POSTED_WITHOUT_STATEMENT,)
        elif len(line.documents) == 1 and line.gp_amount == line.invoice.amount:
            assert line.differences == ()
        elif not line.documents:
            assert line.differences == ((Difference.SENT_NOT_IN_GP,) if line.invoice.sent else ())
        else:
            assert line.differences
