"""What each live read sends to SQL Server: Towne Park's three-part names, and every value as a bound parameter."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy.dialects import mssql

from shared.live_reads.reads import LIVE_READS, LiveRead

SQL_SERVER = mssql.dialect()  # type: ignore[no-untyped-call]
EXAMPLES: dict[str, dict[str, Any]] = {
    "budget-daily-detail": {"site": "170", "period": "2026-11"},
    "budget-actual-summary": {"sites": "170,118", "year": "2026"},
    "parking-rates": {"site": "170", "year": "2026"},
    "payroll-budget": {"site": "170", "year": "2026"},
    "payroll-actuals": {"site": "170", "period": "202611"},
    "scheduled-hours": {"site": "170", "period": "202611"},
    "daily-revenue": {"site": "170", "fromDate": "2026-10-01", "toDate": "2026-11-30"},
    "other-expenses": {"site": "170", "year": "2026"},
}
_TYPE_LENGTHS = re.compile(r"VARCHAR\(\d+\)")  # a CAST's target type, not a value
_NUMBER = re.compile(r"(?<![\w\[.])\d+(?![\w\]])")


def test_every_read_has_an_example() -> None:
    assert set(EXAMPLES) == {read.name for read in LIVE_READS}


@pytest.mark.parametrize("read", LIVE_READS, ids=lambda read: read.name)
def test_the_sql_holds_no_values_only_bound_parameters(read: LiveRead) -> None:
    bound = read.statement(read.params.model_validate(EXAMPLES[read.name]))
    compiled = bound.statement.compile(dialect=SQL_SERVER)
    sql = str(compiled)

    assert (
        "'" not in sql
    )  # no string literal: sites, periods, pay types and accounts all travel as parameters
    assert _NUMBER.findall(_TYPE_LENGTHS.sub("", sql)) == []  # nor any number
    for value in ("0170", "170", "2026", "DIFFERENTIAL", "9410", "PR Hours", "Occupied Rooms"):
        assert value not in sql
    assert set(bound.parameters) <= set(compiled.params)
    assert re.search(r"\[TP_(EDW|LEGION)\]\.dbo\.\[", sql)


@pytest.mark.parametrize("read", LIVE_READS, ids=lambda read: read.name)
def test_the_site_is_sent_as_a_parameter_in_every_form_legion_stores(read: LiveRead) -> None:
    bound = read.statement(read.params.model_validate(EXAMPLES[read.name]))
    values = {key: value for key, value in bound.parameters.items() if key in {"site", "sites", "locations"}}
    if "locations" in values:
        assert values == {"locations": ["0170", "170"]}
    elif "sites" in values:
        assert values == {"sites": ["0170", "0118"]}
    else:
        assert values == {"site": "0170"}


def test_payroll_and_schedule_rules_are_parameters_of_the_sql_not_filters_in_python() -> None:
    reads = {read.name: read for read in LIVE_READS}
    payroll = reads["payroll-actuals"].statement(
        reads["payroll-actuals"].params.model_validate(EXAMPLES["payroll-actuals"])
    )
    shifts = reads["scheduled-hours"].statement(
        reads["scheduled-hours"].params.model_validate(EXAMPLES["scheduled-hours"])
    )
    payroll_sql = str(payroll.statement.compile(dialect=SQL_SERVER))
    shifts_sql = str(shifts.statement.compile(dialect=SQL_SERVER))

    assert payroll.parameters["excluded_pay_types"] == ["DIFFERENTIAL", "MEAL PREMIUM"]
    assert "NOT IN (__[POSTCOMPILE_excluded_pay_types])" in payroll_sql
    assert (
        "GROUP BY [TP_LEGION].dbo.[vwPAYROLL_SUMMARY].[DATE], [TP_LEGION].dbo.[vwPAYROLL_SUMMARY].[TITLE]"
        in payroll_sql
    )
    assert shifts.parameters["not_deleted"] == "No"
    assert "[SHIFT_ENTITY].[DELETED] = :not_deleted" in shifts_sql
    assert "DOUBLE_OVERTIME_MINUTES" in shifts_sql
    assert (shifts.parameters["first_day_of_year"], shifts.parameters["last_day_of_year"]) == (305, 334)
