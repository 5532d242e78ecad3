"""Towne Park's site numbers: four digits everywhere the hub writes one.

The EDW and GP store a site as '0170'; Legion and the Workday exports store
some sites as '170' (a number that lost its leading zero). Cost centers
0000-8999 are sites; 9000s, 'P4..' (district), 'P6..' (region), 'A..'
(corporate) and 'B100' are not (DOMAIN.md §4).

Periods disagree the same way (DOMAIN.md §10.1): the EDW and ``bs_billableexpense``
write a month 'yyyyMM', Dataverse's ``bs_payroll``, ``bs_otherexpensedetail``
and ``bs_unitaccountbatchprocess`` 'yyyy-MM'. A :class:`Month` is either, and
each target asks it for its own form. A row whose site is a site number but
not one of Towne Park's sites is quarantined with that reason
(:data:`KnownSite`), never dropped.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Annotated

from pydantic import AfterValidator

_LAST_SITE = 8999
FIRST_YEAR = 2000
LAST_YEAR = 2099
_PERIOD = re.compile(r"([0-9]{4})-?([0-9]{2})")


def site_number(value: str | None) -> str | None:
    """The four-digit site number of ``value`` ('170' → '0170'), or None when it is not a site."""
    text = (value or "").strip()
    if not text.isdigit() or len(text) > 4 or int(text) > _LAST_SITE:
        return None
    return text.zfill(4)


def site_key(value: str | None) -> str:
    """The site number when ``value`` is one, else the value as stored: a join key that pads sites only."""
    return site_number(value) or (value or "").strip()


def spellings(sites: Iterable[str]) -> set[str]:
    """Each four-digit site as a source may store it ('0170' and '170'): what a filter by site must match."""
    return {spelling for site in sites for spelling in (site, site.lstrip("0") or "0")}


def _require_site(value: str) -> str:
    number = site_number(value)
    if number is None:
        raise ValueError("a site number is 1-4 digits, 0000-8999")
    return number


SiteNumber = Annotated[str, AfterValidator(_require_site)]
"""A model field holding a site: validated and padded to four digits."""


def _require_known(known: bool) -> bool:
    if not known:
        raise ValueError("not a Towne Park site: the number is in no MASTER_NON_FINANCIAL row")
    return known


KnownSite = Annotated[bool, AfterValidator(_require_known)]
"""A model field saying the row's site is in the master site list; False quarantines the row with why."""


@dataclass(frozen=True, order=True)
class Month:
    """A calendar month, the EDW's PERIOD; fiscal months are calendar months (DOMAIN.md §10, inferred)."""

    year: int
    month: int

    def __post_init__(self) -> None:
        if not (FIRST_YEAR <= self.year <= LAST_YEAR and 1 <= self.month <= 12):
            raise ValueError(f"a period is a month from {FIRST_YEAR}-01 to {LAST_YEAR}-12")

    @classmethod
    def parse(cls, text: str) -> Month:
        """'202611' (the EDW) and '2026-11' (Dataverse's bs_period) name the same month."""
        match = _PERIOD.fullmatch(text.strip())
        if match is None:
            raise ValueError("a period is yyyyMM or yyyy-MM, such as 202611 or 2026-11")
        return cls(int(match[1]), int(match[2]))

    @classmethod
    def of(cls, day: date) -> Month:
        return cls(day.year, day.month)

    @property
    def period(self) -> str:
        """The EDW's and ``bs_billableexpense``'s form, yyyyMM."""
        return f"{self.year}{self.month:02d}"

    @property
    def dashed(self) -> str:
        """Dataverse's forecast tables' form (``bs_payroll.bs_period``), yyyy-MM."""
        return f"{self.year}-{self.month:02d}"

    @property
    def first_day(self) -> date:
        return date(self.year, self.month, 1)

    @property
    def last_day(self) -> date:
        return self.next().first_day - timedelta(days=1)

    @property
    def days(self) -> int:
        return self.last_day.day

    def next(self) -> Month:
        return Month(self.year + self.month // 12, self.month % 12 + 1)
