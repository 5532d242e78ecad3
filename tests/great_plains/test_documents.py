"""Statements and statistics to GP documents: today's rules, and every document balances or is refused."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.connectors.great_plains.documents import GpMap
from shared.workflows.gp_posting.billing import BatchIdStyle, InvoiceLine, company_of, statement_postings
from shared.workflows.gp_posting.statistics import (
    CHUNK_ROWS,
    InactiveStatisticsError,
    UnitStatistic,
    statistics_journals,
)
from tests.great_plains.statements import invoice, line, statement


def test_positive_invoice_is_a_receivable_balanced_by_the_receivables_account() -> None:
    postings = statement_postings(
        statement(
            "0123", invoice("0123-202504-01-00", line("1000.00", "4791"), line("-50.00", ""), line("0"))
        )
    )
    (document,) = postings.documents
    assert document.map_id is GpMap.RECEIVABLES
    assert (document.inter_id, document.company) == ("TOWNE", "TOWNE")
    assert document.document_number == "01232025040100"
    assert document.batch_id == "202504POWERBILL2025-04-30"
    accounts = [(row["AccountNumber"], row["Debit"], row["Credit"]) for row in document.rows]
    assert accounts == [
        ("02-03-2106-4791-0123", "0.00", "1000.00"),
        ("02-03-2106-4790-0123", "50.00", "0.00"),
        ("02-00-0000-1200-0000", "950.00", "0.00"),
    ]
    assert {row["PostingDate"] for row in document.rows} == {"04/30/2025"}
    assert {row["Description"] for row in document.rows} == {"2025040123POWERBILL"}
    assert all("DeferredAccount" not in row for row in document.rows)


def test_first_of_month_invoice_defers_revenue() -> None:
    postings = statement_postings(
        statement("0123", invoice("0123-202505-01-00", line("10"), on=date(2025, 5, 1)))
    )
    assert {row["DeferredAccount"] for row in postings.documents[0].rows} == {"02-00-0000-2450-0000"}


def test_credit_invoice_is_a_payable_whose_interid_follows_the_company() -> None:
    postings = statement_postings(
        statement(
            "0456", invoice("0456-202504-01-01", line("-80.00"), line("20.00")), gl_string="07-01-3000-"
        )
    )
    (document,) = postings.documents
    assert document.map_id is GpMap.PAYABLES
    assert (document.company, document.inter_id) == ("ENC", "ENC")
    assert {row["DOCAMNT"] for row in document.rows} == {"60.00"}
    assert document.rows[-1]["ACCOUNT"] == "07-00-0000-2000-0000"
    assert document.rows[-1]["CREDIT"] == "60.00"
    assert document.debits == document.credits == Decimal("80.00")


@pytest.mark.parametrize(
    ("gl_string", "override", "company"),
    [
        ("07-1-", None, "ENC"),
        ("22-1-", None, "UPP"),
        ("02-1-", None, "TOWNE"),
        ("31-1-", None, "TOWNE"),
        ("07-1-", "UPP", "UPP"),
    ],
)
def test_company_comes_from_the_gl_string_unless_overridden(
    gl_string: str, override: str | None, company: str
) -> None:
    assert company_of(statement("1", gl_string=gl_string, company_override=override)) == company


def test_test_company_posts_payables_through_towne() -> None:
    postings = statement_postings(statement("1", invoice("1-2-3", line("-5")), company_override="TEST"))
    assert (postings.documents[0].company, postings.documents[0].inter_id) == ("TEST", "TOWNE")


def test_parking_tax_journal_when_towne_park_pays_it() -> None:
    postings = statement_postings(
        statement(
            "0777",
            invoice(
                "0777-202504-01-00",
                line("500", "4790", kind="depositedRevenue", taxes_paid="12.50"),
                line("30.25", "4790", kind="paidParkingTax"),
            ),
            parking_tax=True,
        )
    )
    journal = postings.documents[-1]
    assert journal.map_id is GpMap.JOURNAL
    assert journal.document_number == "0777 RC Parking Tax 202504"
    assert [(row["ACCOUNT"], row["DEBIT"], row["CREDIT"]) for row in journal.rows] == [
        ("02-03-2106-4790-0777", "42.75", "0.00"),
        ("02-00-0000-2030-0000", "0.00", "42.75"),
    ]
    assert {row["TRANTYPE"] + row["SRCDOC"] + row["CURRID"] for row in journal.rows} == {"NGJUS"}


def test_no_parking_tax_journal_unless_the_contract_says_so() -> None:
    postings = statement_postings(statement("1", invoice("1-1", line("30", kind="paidParkingTax"))))
    assert [document.map_id for document in postings.documents] == [GpMap.RECEIVABLES]


def test_invoice_whose_lines_do_not_add_up_is_refused_with_the_reason() -> None:
    postings = statement_postings(
        statement("9", invoice("9-1-1", line("100"), amount="120"), invoice("9-1-2", line("5")))
    )
    assert [document.document_number for document in postings.documents] == ["912"]
    (refusal,) = postings.refused
    assert refusal.document_number == "911"
    assert "does not balance: debits 120.00 != credits 100.00" in refusal.reason


def test_compact_batch_ids_fit_gp_fifteen_characters() -> None:
    postings = statement_postings(statement("1", invoice("1-1", line("1"))), BatchIdStyle.COMPACT)
    assert postings.documents[0].batch_id == "202504PB250430"
    assert len(postings.documents[0].batch_id) <= 15


def test_key_is_deterministic_and_changes_with_content() -> None:
    first = statement_postings(statement("1", invoice("1-1", line("1")))).documents[0]
    again = statement_postings(statement("1", invoice("1-1", line("1")))).documents[0]
    changed = statement_postings(statement("1", invoice("1-1", line("2")))).documents[0]
    assert first.key == again.key != changed.key


amounts = st.decimals(min_value=Decimal("-5000"), max_value=Decimal("5000"), places=2)
lines = st.lists(
    st.builds(
        line,
        amounts.map(str),
        st.sampled_from(["", "4790", "4791", "6000"]),
        st.sampled_from([None, "paidParkingTax", "depositedRevenue"]),
        amounts.map(str),
    ),
    max_size=8,
)


@given(
    invoices=st.lists(
        st.tuples(lines, st.one_of(st.none(), amounts), st.dates(date(2024, 1, 1), date(2026, 12, 31))),
        max_size=4,
    ),
    gl_prefix=st.sampled_from(["02", "07", "22", "31"]),
    parking_tax=st.booleans(),
)
def test_every_document_balances_or_is_refused_with_a_reason(
    invoices: list[tuple[list[InvoiceLine], Decimal | None, date]], gl_prefix: str, parking_tax: bool
) -> None:
    built = statement(
        "0042",
        *(
            invoice(f"0042-2025-{index:02}", *items, on=on, amount=None if total is None else str(total))
            for index, (items, total, on) in enumerate(invoices)
        ),
        gl_string=f"{gl_prefix}-01-2000-",
        parking_tax=parking_tax,
    )
    postings = statement_postings(built)
    for document in postings.documents:
        assert document.debits == document.credits
        assert document.lines and all(row for row in document.rows)
    for refusal in postings.refused:
        assert refusal.reason
    consistent = [items for items, total, _ in invoices if total is None and any(i.amount for i in items)]
    receivable_or_payable = [d for d in postings.documents if d.map_id is not GpMap.JOURNAL]
    assert len(receivable_or_payable) >= len(consistent)


def _statistic(
    value: str, status: str | None = "Active", gl_string: str = "02-03-2106-9001-0123"
) -> UnitStatistic:
    return UnitStatistic(
        site="0123",
        main_account="9001",
        gl_string=gl_string,
        value=Decimal(value),
        status=status,
        account_description="Occupied rooms",
    )


def test_statistics_go_in_chunks_of_a_thousand() -> None:
    rows = [_statistic(str(n - 3)) for n in range(2 * CHUNK_ROWS + 5)]
    journals = statistics_journals(date(2025, 4, 1), rows)
    assert [len(journal.rows) for journal in journals] == [1000, 1000, 5]
    first = journals[0].rows
    assert first[0]["BATCHID"] == "202504POWERSTATS"
    assert first[0]["TRXDATE"] == "04/30/2025"
    assert first[0]["REFRENCE"] == "April 2025 Statistics"
    assert (first[0]["DEBIT"], first[0]["CREDIT"]) == ("0", "3")
    assert (first[5]["DEBIT"], first[5]["CREDIT"]) == ("2", "0")
    assert len({journal.key for journal in journals}) == 3


def test_each_statistic_goes_to_the_company_its_gl_string_names_one_journal_per_company() -> None:
    gl_strings = (
        "02-03-2106-9001-0123",
        "07-01-2101-9510-0875",
        "22-01-2101-9440-6200",
        "02-01-2101-9440-0085",
    )
    rows = [_statistic(str(n + 1), gl_string=gl) for n, gl in enumerate(gl_strings)]
    journals = statistics_journals(date(2026, 10, 1), rows)
    accounts = {journal.company: [line.account for line in journal.lines] for journal in journals}
    assert accounts == {
        "TOWNE": ["02-03-2106-9001-0123", "02-01-2101-9440-0085"],
        "ENC": ["07-01-2101-9510-0875"],
        "UPP": ["22-01-2101-9440-6200"],
    }
    for journal in journals:
        assert {row["COMPANY"] for row in journal.rows} == {journal.company}
        assert journal.inter_id == "TOWNE"  # GLIMP's interID is fixed; the COMPANY column routes the lines
    assert len({journal.key for journal in journals}) == 3


def test_statistics_with_an_inactive_or_missing_status_are_refused_with_a_report() -> None:
    rows = [_statistic("1"), _statistic("2", "Inactive"), _statistic("3", None)]
    with pytest.raises(InactiveStatisticsError) as refused:
        statistics_journals(date(2025, 4, 1), rows)
    assert len(refused.value.rows) == 2
    report = refused.value.report()
    assert report.count("<tr>") == 3 and "(missing)" in report and "Inactive" in report
