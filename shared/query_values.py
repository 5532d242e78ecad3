"""Integers, booleans, dates and times in a query string, taken only in the form the OpenAPI document gives them.

Pydantic's lax mode reads ``2025.0`` and `` 2025`` as the integer 2025, and
``2025-01-01T00:00`` as a date; a connector built from the document never
sends those, so a caller who does has made a mistake the hub should name, not
guess at. Each type here checks the text's shape first and leaves the value's
own rules (ranges, calendars) to pydantic. A value that is already typed (a
test, a JSON body) passes through to pydantic unchanged. A backfill window's
bounds travel as text of one of those three forms (``cursor_bound``).
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BeforeValidator
from pydantic_core import PydanticCustomError

_INTEGER = re.compile(r"-?[0-9]{1,18}")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# RFC 3339's date-time (what ``format: date-time`` means): seconds required, a zone optional (UTC).
_DATE_TIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?(Z|[+-][0-9]{2}:[0-9]{2})?"
)


def _integer(value: Any) -> Any:
    if isinstance(value, str) and not _INTEGER.fullmatch(value):
        raise PydanticCustomError("int_parsing", "Input should be a whole number, digits only, such as 2026")
    if isinstance(value, float | bool):
        raise PydanticCustomError("int_type", "Input should be a whole number, such as 2026")
    return value


def _date(value: Any) -> Any:
    if isinstance(value, str) and not _DATE.fullmatch(value):
        raise PydanticCustomError(
            "date_from_datetime_parsing", "Input should be a date as yyyy-MM-dd, such as 2026-11-01"
        )
    if isinstance(value, datetime):
        raise PydanticCustomError("date_type", "Input should be a date, not a time")
    return value


def _date_time(value: Any) -> Any:
    if isinstance(value, str) and not _DATE_TIME.fullmatch(value):
        raise PydanticCustomError(
            "datetime_from_date_parsing",
            "Input should be a time as yyyy-MM-ddTHH:mm:ss with an optional zone, such as 2026-11-01T08:00:00Z",
        )
    return value


def cursor_bound(text: str) -> int | date | datetime:
    """A backfill window's bound as sent: digits are a number, yyyy-MM-dd a date, a date-time a time.

    Pydantic's lax union would read ``2026-11-01T00:00:00Z`` as a date and drop its time and zone.
    """
    if _INTEGER.fullmatch(text):
        return int(text)
    if _DATE.fullmatch(text):
        return date.fromisoformat(text)
    if _DATE_TIME.fullmatch(text):
        return datetime.fromisoformat(text)
    raise ValueError("a date (yyyy-MM-dd), a time (yyyy-MM-ddTHH:mm:ss, a zone optional) or a whole number")


def _boolean(value: Any) -> Any:
    if isinstance(value, str) and value not in {"true", "false"}:
        raise PydanticCustomError("bool_parsing", "Input should be true or false")
    return value == "true" if isinstance(value, str) else value


# Put after a type's constraints (``Annotated[int, Field(ge=1), DIGITS_ONLY]``) so the schema keeps them.
DIGITS_ONLY = BeforeValidator(_integer)
QueryInt = Annotated[int, DIGITS_ONLY]
QueryDate = Annotated[date, BeforeValidator(_date)]
QueryDateTime = Annotated[datetime, BeforeValidator(_date_time)]
QueryBool = Annotated[bool, BeforeValidator(_boolean)]
