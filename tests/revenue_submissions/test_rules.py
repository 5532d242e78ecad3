"""The deposit check's rule, the workbook adapter and the webhook's notification checks, as pure functions."""

from __future__ import annotations

import io
from decimal import Decimal

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import Workbook

from localdev.sandbox.graph.workbooks import CASH_CATEGORY, rss_workbook
from shared.workflows.revenue_submissions.deposit_check import DepositFigures, deposits_balance
from shared.workflows.revenue_submissions.notifications import NotANotificationError, notified_lists
from shared.workflows.revenue_submissions.submissions import submission
from shared.workflows.revenue_submissions.workbook import UnreadableWorkbookError, read_data_mart

cents = st.integers(min_value=-10_000_000, max_value=10_000_000).map(lambda c: Decimal(c) / 100)


@given(deposits=cents, cash=cents, off_by=st.integers(min_value=-500, max_value=500))
def test_deposits_balance_exactly_when_tp_deposits_less_cash_equal_minus_4785(
    deposits: Decimal, cash: Decimal, off_by: int
) -> None:
    collected = -(deposits - cash) + Decimal(off_by) / 100  # GP holds the collection negative
    figures = DepositFigures(deposits, cash, collected)
    assert deposits_balance(figures, Decimal("0.00")) is (off_by == 0)
    assert deposits_balance(figures, Decimal("5.00")) is (abs(off_by) <= 500)
    assert figures.recorded - figures.collected == figures.difference == Decimal(off_by) / 100


def test_the_adapter_reads_the_data_mart_whole_and_refuses_a_row_of_another_month() -> None:
    rows = read_data_mart(rss_workbook("0170", "202502", Decimal("999.99")), "0170", "202502")
    assert len(rows) == 28 * 8 and {row.day.month for row in rows} == {2}
    assert sum(row.value for row in rows if row.revenue_category == CASH_CATEGORY) == Decimal("999.99")

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "DataMart"
    sheet.append(["SITE", "DATE", "REVENUE_CODE", "REVENUE_CATEGORY", "VALUE_TYPE", "VALUE"])
    sheet.append(["0170", 45689, "VD1", "Valet Daily", "Revenue", 10])  # Excel serial 45689 = 2025-02-01
    sheet.append(["0170", 45718, "VD1", "Valet Daily", "Revenue", 10])  # 2025-03-02
    buffer = io.BytesIO()
    workbook.save(buffer)
    with pytest.raises(
        UnreadableWorkbookError, match="row 3 of 'DataMart' is dated 2025-03-02, outside 202502"
    ):
        read_data_mart(buffer.getvalue(), "0170", "202502")


def test_only_a_months_rss_workbook_is_a_submission() -> None:
    def item(title: str) -> dict[str, object]:
        fields = {"Title": title, "Revenue_x0020_Doc_x0020_Status": "Submit for Invoicing"}
        return {"id": "7", "fields": fields, "lastModifiedBy": {"user": {"displayName": "Okafor, Adaeze"}}}

    found = submission(item("TP0170REV2025 C04.xlsm"))
    assert found is not None
    assert (found.site, found.period, found.submitter, found.awaits_check) == (
        "0170",
        "202504",
        "Okafor, Adaeze",
        True,
    )
    assert submission(item("TP0170 notes.docx")) is None
    assert submission(item("TP0170REV2025 C13.xlsm")) is None


def test_only_notifications_with_the_subscriptions_client_state_name_a_list() -> None:
    resource = "sites/townepark.sharepoint.com,a,b/lists/c"
    body = orjson.dumps(
        {
            "value": [
                {"clientState": "right", "resource": resource},
                {"clientState": "right", "resource": resource},
                {"clientState": "wrong", "resource": "sites/x/lists/y"},
                {"resource": "sites/x/lists/z"},
            ]
        }
    )
    changes = notified_lists(body, "right")
    assert [revenue.key for revenue in changes.lists] == ["townepark.sharepoint.com,a,b/c"]
    assert changes.refused == 2
    with pytest.raises(NotANotificationError):
        notified_lists(b"validation", "right")
