"""Which Legion job codes a budget job profile's hours go to: the job-profile mapping's rules, in order.

DOMAIN.md §5 "Job-profile mapping": a hand mapping first (``bs_forecastjobprofilemapping``:
pilot sites are mapped by hand), then the exact code, then the closest active
code, then a split across codes weighted by their active employees, then zero.
Shift differentials are left out (they double-count hours), and only 'PR
Hours' > 0 are used. Towne Park's code matches ``JOB_PROFILE == bs_jobcode``
and nothing else; the rest of the order is its design document's, and what
"closest" and "split" mean is the hub's reading, not confirmed:

- *active* codes are the site's codes with employees scheduled in the last
  28 days (``job_codes_by_site``'s count);
- *closest* is the one active code whose name is most like the profile's
  (``difflib``'s ratio, at least :data:`CLOSE_ENOUGH`: 'GSA1' → GSA,
  'CASHIER' → CASH);
- *split* is for a profile as close to several active codes ('SHUTL' to
  SHUTL1 and SHUTL2): its hours are shared by their active employees;
- *zero* is a profile like no active code ('TRANSPORT' at a site without
  PTRANS is still 0.67 like it): its hours are unmapped, and the coverage
  names it;
- a *shift differential* is a profile whose name holds 'DIFF'.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from difflib import SequenceMatcher
from enum import StrEnum

CLOSE_ENOUGH = 0.7


class MappingRule(StrEnum):
    """How a profile found its codes, in the order the rules are tried."""

    HAND_MAPPED = "handMapped"
    EXACT = "exact"
    CLOSEST = "closest"
    SPLIT = "split"
    UNMAPPED = "unmapped"
    SHIFT_DIFFERENTIAL = "shiftDifferential"


@dataclass(frozen=True)
class ProfileMapping:
    """The codes a profile's hours go to, each with its weight (its active employees; 1 when alone)."""

    rule: MappingRule
    codes: Mapping[str, int]


def is_shift_differential(profile: str) -> bool:
    return "DIFF" in profile.upper()


def map_profile(profile: str, active: Mapping[str, int], hand_mapped: str | None = None) -> ProfileMapping:
    """The rule that places ``profile`` at a site whose active codes (with their employees) are ``active``.

    ``hand_mapped`` is the code a ``bs_forecastjobprofilemapping`` row gives the
    profile at this site; it wins even when the code is not active there.
    """
    name = profile.strip().upper()
    if is_shift_differential(name):
        return ProfileMapping(MappingRule.SHIFT_DIFFERENTIAL, {})
    if hand_mapped:
        return ProfileMapping(MappingRule.HAND_MAPPED, {hand_mapped.strip().upper(): 1})
    if name in active:
        return ProfileMapping(MappingRule.EXACT, {name: 1})
    likeness = {code: SequenceMatcher(None, name, code).ratio() for code in active}
    best = max(likeness.values(), default=0.0)
    if best < CLOSE_ENOUGH:
        return ProfileMapping(MappingRule.UNMAPPED, {})
    nearest = sorted(code for code, ratio in likeness.items() if ratio == best)
    if len(nearest) == 1:
        return ProfileMapping(MappingRule.CLOSEST, {nearest[0]: 1})
    return ProfileMapping(MappingRule.SPLIT, {code: active[code] for code in nearest})
