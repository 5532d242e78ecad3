"""Towne Park's site numbers: four digits everywhere the hub writes one.

The EDW and GP store a site as '0170'; Legion and the Workday exports store
some sites as '170' (a number that lost its leading zero). Cost centers
0000-8999 are sites; 9000s, 'P4..' (district), 'P6..' (region), 'A..'
(corporate) and 'B100' are not (DOMAIN.md §4).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated

from pydantic import AfterValidator

_LAST_SITE = 8999


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
