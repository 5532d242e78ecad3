"""OData key literals and Dataverse error bodies."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from uuid import UUID

import pytest

from shared.connectors.dataverse.keys import (
    UnusableKeyError,
    entity_path,
    key_filter,
    odata_literal,
    query_string,
)
from shared.connectors.dataverse.odata_errors import ODataError, dataverse_error, parse_odata_error
from shared.errors import AlreadyExistsError, ConflictError, ErrorClass, NotFoundError, ThrottledError


@pytest.mark.parametrize(
    ("value", "literal"),
    [
        ("0123", "'0123'"),
        ("O'Brien", "'O''Brien'"),
        (42, "42"),
        (Decimal("18.50"), "18.50"),
        (2.5, "2.5"),
        (True, "true"),
        (UUID("00000000-0000-0000-0000-000000000001"), "00000000-0000-0000-0000-000000000001"),
        (date(2025, 3, 1), "2025-03-01"),
        (datetime(2025, 3, 1, 6, 30, tzinfo=UTC), "2025-03-01T06:30:00Z"),
    ],
)
def test_odata_literals(value: object, literal: str) -> None:
    assert odata_literal(value) == literal


def test_a_row_address_is_percent_encoded_but_keeps_its_quotes() -> None:
    record = {"bs_sitenumber": "0123", "bs_jobcode": "O'BRIEN #2", "bs_rate": 1}
    assert entity_path("bs_jobcodesbysites", ("bs_sitenumber", "bs_jobcode"), record) == (
        "bs_jobcodesbysites(bs_sitenumber='0123',bs_jobcode='O''BRIEN%20%232')"
    )


@pytest.mark.parametrize("character", list("/<>*%&:\\?+"))
def test_characters_dataverse_cannot_take_in_a_key_are_refused(character: str) -> None:
    with pytest.raises(UnusableKeyError, match="cannot take"):
        entity_path("bs_jobcodes", ("bs_jobcode",), {"bs_jobcode": f"A{character}B"})


@pytest.mark.parametrize("value", [None, "", float("nan"), datetime(2025, 3, 1), object()])
def test_values_that_cannot_be_a_key(value: object) -> None:
    with pytest.raises(UnusableKeyError):
        entity_path("bs_jobcodes", ("bs_jobcode",), {"bs_jobcode": value})


def test_a_key_filter_and_its_query_string() -> None:
    text = key_filter(("bs_sitenumber", "bs_jobcode"), [("0123", "VALET"), ("0456", "O'NEIL")])
    assert text == (
        "(bs_sitenumber eq '0123' and bs_jobcode eq 'VALET') or "
        "(bs_sitenumber eq '0456' and bs_jobcode eq 'O''NEIL')"
    )
    assert query_string({"$select": "a,b", "$filter": "(a eq 'x y&z')", "$top": None}) == (
        "$select=a,b&$filter=(a%20eq%20'x%20y%26z')"
    )


def test_parses_dataverse_error_bodies_including_empty_codes() -> None:
    assert parse_odata_error(
        b'{"error":{"code":"","message":"A record with matching key values already exists."}}', 412
    ) == (ODataError("", "A record with matching key values already exists."))
    assert parse_odata_error(
        b'{"error":{"code":"0x80044331","message":"A validation error occurred."}}', 400
    ) == (ODataError("0x80044331", "A validation error occurred."))
    assert parse_odata_error(b"<html>Bad Gateway</html>", 502) == ODataError("", "<html>Bad Gateway</html>")
    assert parse_odata_error(b"", 503) == ODataError("", "HTTP 503 with no body")


def test_typed_errors_by_status_and_code() -> None:
    context = {"system": "dataverse"}
    empty = ODataError("", "x")
    assert isinstance(dataverse_error(412, empty, context=context, create_only=True), AlreadyExistsError)
    assert isinstance(dataverse_error(412, empty, context=context), ConflictError)
    assert isinstance(dataverse_error(404, empty, context=context), NotFoundError)
    throttled = dataverse_error(
        429, ODataError("0x80072322", "Number of requests exceeded"), context=context, retry_after=3
    )
    assert isinstance(throttled, ThrottledError) and throttled.retry_after == 3
    assert "[0x80072322]" in str(throttled)
    assert dataverse_error(403, empty, context=context).error_class is ErrorClass.AUTH
    assert (
        dataverse_error(400, ODataError("0x80044331", "too long"), context=context).error_class
        is ErrorClass.BAD_RECORD
    )
