"""The reads' query parameters: Towne Park's formats accepted and normalised, everything else refused by field."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from shared.live_reads.parameters import MAX_SITES, Month, SiteDays, SiteMonth, SitesYear, SiteYear
from shared.live_reads.reads import LIVE_READS


def refusal(model: type[BaseModel], values: dict[str, Any]) -> dict[tuple[str | int, ...], str]:
    with pytest.raises(ValidationError) as refused:
        model.model_validate(values)
    return {tuple(error["loc"]): error["type"] for error in refused.value.errors()}


@pytest.mark.parametrize("site", ["170", "0170", 170])
def test_a_site_is_accepted_padded_or_not_and_becomes_four_digits(site: Any) -> None:
    assert SiteMonth.model_validate({"site": site, "period": "202611"}).site == "0170"


@pytest.mark.parametrize("period", ["202611", "2026-11"])
def test_a_period_is_accepted_as_yyyymm_or_yyyy_dash_mm(period: str) -> None:
    parameters = SiteMonth.model_validate({"site": "0170", "period": period})
    assert parameters.period == Month(2026, 11)
    assert (parameters.period.first_day, parameters.period.last_day) == (
        date(2026, 11, 1),
        date(2026, 11, 30),
    )
    assert parameters.model_dump(mode="json", by_alias=True) == {"site": "0170", "period": "202611"}


@pytest.mark.parametrize("site", ["12345", "ab", "", "17-0", "0170;DROP TABLE x", 1.5, True, " 170 ", "170 "])
def test_a_site_that_is_not_1_to_4_digits_is_refused_on_the_site_field(site: Any) -> None:
    assert refusal(SiteMonth, {"site": site, "period": "202611"}) == {("site",): "value_error"}


@pytest.mark.parametrize(
    "period", ["2026-13", "202600", "26-11", "2026/11", "2026-11-01", "November", 202611, " 202611"]
)
def test_a_bad_period_is_refused_on_the_period_field(period: Any) -> None:
    assert refusal(SiteMonth, {"site": "0170", "period": period}) == {("period",): "value_error"}


def test_unknown_fields_and_snake_case_names_are_refused() -> None:
    assert refusal(SiteMonth, {"site": "0170", "period": "202611", "storedProcedureId": 6}) == {
        ("storedProcedureId",): "extra_forbidden"
    }
    assert refusal(SiteDays, {"site": "0170", "from_date": "2026-11-01", "toDate": "2026-11-02"}) == {
        ("fromDate",): "missing",
        ("from_date",): "extra_forbidden",
    }


def test_wrong_types_and_missing_values_are_refused_by_field() -> None:
    assert refusal(SiteYear, {"site": "0170", "year": "twenty"}) == {("year",): "int_parsing"}
    assert refusal(SiteYear, {"site": "0170", "year": "1999"}) == {("year",): "greater_than_equal"}
    assert refusal(SiteYear, {"year": 2026}) == {("site",): "missing"}
    assert refusal(SiteDays, {"site": "0170", "fromDate": "yesterday", "toDate": "2026-11-02"}) == {
        ("fromDate",): "date_from_datetime_parsing"
    }


@pytest.mark.parametrize("year", ["2025.0", " 2025", "2025 ", "+2025", "2_025", "2025e0", 2025.0, True])
def test_a_year_is_digits_only_as_the_document_says_integer(year: Any) -> None:
    refused = refusal(SiteYear, {"site": "0170", "year": year})
    assert refused in ({("year",): "int_parsing"}, {("year",): "int_type"})
    documented = SiteYear.model_json_schema()["properties"]["year"]
    assert (documented["type"], documented["minimum"], documented["maximum"]) == ("integer", 2000, 2099)


@pytest.mark.parametrize(
    "day", ["2025-01-01T00:00", "2025-01-01T00:00:00Z", "2025-01-01 ", "20250101", "1735689600"]
)
def test_a_day_is_yyyy_mm_dd_as_the_document_says_format_date(day: str) -> None:
    assert refusal(SiteDays, {"site": "0170", "fromDate": day, "toDate": "2025-01-02"}) == {
        ("fromDate",): "date_from_datetime_parsing"
    }
    accepted = SiteDays.model_validate({"site": "0170", "fromDate": "2025-01-01", "toDate": "2025-01-02"})
    assert accepted.from_date == date(2025, 1, 1)


def test_site_lists_are_comma_separated_or_repeated_normalised_and_bounded() -> None:
    assert SitesYear.model_validate({"sites": "170, 0118,170", "year": "2026"}).sites == ["0170", "0118"]
    assert SitesYear.model_validate({"sites": ["170", "9"], "year": 2026}).sites == ["0170", "0009"]
    assert refusal(SitesYear, {"sites": "", "year": 2026}) == {("sites",): "too_short"}
    assert refusal(SitesYear, {"sites": ",".join(["1"] * (MAX_SITES + 1)), "year": 2026}) == {
        ("sites",): "too_long"
    }
    assert refusal(SitesYear, {"sites": "0170,x1", "year": 2026}) == {("sites", 1): "value_error"}


def test_day_ranges_run_forwards_and_are_at_most_93_days() -> None:
    ninety_three = SiteDays.model_validate({"site": "1", "fromDate": "2026-09-01", "toDate": "2026-12-02"})
    assert (ninety_three.to_date - ninety_three.from_date).days == 92
    assert refusal(SiteDays, {"site": "1", "fromDate": "2026-09-01", "toDate": "2026-12-03"}) == {
        ("toDate",): "value_error"
    }
    assert refusal(SiteDays, {"site": "1", "fromDate": "2026-11-02", "toDate": "2026-11-01"}) == {
        ("toDate",): "value_error"
    }


def test_every_read_declares_forbidding_camel_case_parameters_and_camel_case_rows() -> None:
    names = [read.name for read in LIVE_READS]
    assert len(set(names)) == len(names) == 8
    for read in LIVE_READS:
        assert read.params.model_config.get("extra") == "forbid"
        assert read.summary and read.description and read.cache_seconds >= 0
        for schema in (read.params.model_json_schema(), read.row.model_json_schema(mode="serialization")):
            assert all("_" not in name for name in schema["properties"]), (read.name, schema["properties"])
    period = SiteMonth.model_json_schema()["properties"]["period"]
    assert period["type"] == "string"


def test_a_read_refuses_parameters_of_another_read() -> None:
    payroll = next(read for read in LIVE_READS if read.name == "payroll-actuals")
    with pytest.raises(TypeError, match="payroll-actuals read takes SiteMonth"):
        payroll.statement(SiteYear.model_validate({"site": "1", "year": 2026}))


# No deadline: one example's wall time on a loaded 2-core machine measures the machine (289 ms seen), not the model.
@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_every_site_and_period_the_document_allows_is_accepted(data: st.DataObject) -> None:
    """The document is as strict as the reads and no stricter: a generated valid value is not a 400."""
    documented = SiteMonth.model_json_schema()["properties"]
    site = data.draw(st.from_regex(documented["site"]["pattern"], fullmatch=True))
    period = data.draw(st.from_regex(documented["period"]["pattern"], fullmatch=True))
    SiteMonth.model_validate({"site": site, "period": period})
