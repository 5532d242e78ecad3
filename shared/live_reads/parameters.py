"""The query parameters of the live EDW reads: sites, periods, years and day ranges, checked and normalised.

Towne Park's data disagrees on formats (DOMAIN.md §10): sites are '0170' in the
EDW but '170' in Legion, periods are 'yyyyMM' in the EDW and 'yyyy-MM' in
Dataverse. A caller may send either form; every read receives one: a
four-digit site and a :class:`Month`. Unknown parameters and wrong types are
refused, so a maker's typo is a 400 with the field named, not an empty result.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
)
from pydantic.alias_generators import to_camel

from shared.query_values import DIGITS_ONLY, QueryDate
from shared.sites import FIRST_YEAR, LAST_YEAR, Month

MAX_SITES = 50  # one district's sites in one call; more is a batch job, not a screen
MAX_RANGE_DAYS = 93  # a quarter: the longest daily view a screen shows
_SITE = re.compile(r"[0-9]{1,4}")
_PERIOD = re.compile(r"([0-9]{4})-?([0-9]{2})")


class ReadParameters(BaseModel):
    """Query parameters: camelCase names only, nothing unknown, values frozen once checked."""

    model_config = ConfigDict(extra="forbid", alias_generator=to_camel, frozen=True)


def _site_number(value: Any) -> str:
    """'170' and '0170' are the same site; the EDW's form is four digits."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not _SITE.fullmatch(value):
        raise ValueError("a site number is 1 to 4 digits, such as 0170 or 170")
    return value.zfill(4)


def _site_list(value: Any) -> Any:
    """A comma-separated list, as Towne Park's SiteNumbers parameter is, or a repeated parameter."""
    if isinstance(value, str):
        return [part for part in (piece.strip() for piece in value.split(",")) if part]
    return value


def _unique(sites: list[str]) -> list[str]:
    return list(dict.fromkeys(sites))


SiteNumber = Annotated[
    str,
    BeforeValidator(_site_number),
    WithJsonSchema({"type": "string", "pattern": r"^[0-9]{1,4}$", "example": "0170"}),
]
SiteNumbers = Annotated[
    list[SiteNumber],
    BeforeValidator(_site_list),
    Field(min_length=1, max_length=MAX_SITES),
    AfterValidator(_unique),
]
Year = Annotated[int, Field(ge=FIRST_YEAR, le=LAST_YEAR), DIGITS_ONLY]


def _month(value: Any) -> Month:
    """'202611' (the EDW) and '2026-11' (Dataverse's bs_period) name the same month."""
    if isinstance(value, Month):
        return value
    if not isinstance(value, str) or not _PERIOD.fullmatch(value):
        raise ValueError("a period is yyyyMM or yyyy-MM, such as 202611 or 2026-11")
    return Month.parse(value)


# Sent, documented and shown as text; held as a Month once checked.
Period = Annotated[
    Month,
    BeforeValidator(_month),
    PlainSerializer(lambda month: month.period, return_type=str),
    WithJsonSchema({"type": "string", "pattern": r"^20[0-9]{2}-?(0[1-9]|1[0-2])$", "example": "202611"}),
]


_SITE_FIELD = Field(
    title="Site", description="The site number, 1 to 4 digits: 170 and 0170 are the same site."
)
_YEAR_FIELD = Field(title="Year", description=f"A calendar year, {FIRST_YEAR} to {LAST_YEAR}.")


class SiteMonth(ReadParameters):
    """One site and one month: the grain of Towne Park's payroll, schedule and budget screens."""

    site: SiteNumber = _SITE_FIELD
    period: Period = Field(title="Period", description="The month, as yyyyMM or yyyy-MM (202611 or 2026-11).")


class SiteYear(ReadParameters):
    """One site and one calendar year."""

    site: SiteNumber = _SITE_FIELD
    year: Year = _YEAR_FIELD


class SitesYear(ReadParameters):
    """One or more sites (repeated, or comma-separated as Towne Park's SiteNumbers) and one year."""

    sites: SiteNumbers = Field(
        title="Sites", description=f"Site numbers, comma-separated or repeated: 1 to {MAX_SITES}."
    )
    year: Year = _YEAR_FIELD


class SiteDays(ReadParameters):
    """One site and a bounded run of days, first and last included."""

    site: SiteNumber = _SITE_FIELD
    from_date: QueryDate = Field(title="From Date", description="First day (yyyy-MM-dd), included.")
    to_date: QueryDate = Field(
        title="To Date",
        description=f"Last day (yyyy-MM-dd), included: not before fromDate, at most {MAX_RANGE_DAYS - 1} "
        "days after it.",
    )

    @field_validator("to_date")
    @classmethod
    def _check_range(cls, to_date: date, info: ValidationInfo) -> date:
        from_date = info.data.get("from_date")
        if isinstance(from_date, date):
            if to_date < from_date:
                raise ValueError("toDate is before fromDate")
            if (to_date - from_date).days >= MAX_RANGE_DAYS:
                raise ValueError(f"at most {MAX_RANGE_DAYS} days from fromDate to toDate")
        return to_date
