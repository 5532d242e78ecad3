"""The job-profile mappings made by hand in Dataverse (``bs_forecastjobprofilemapping``), read once a run.

DOMAIN.md §5: pilot sites are mapped by hand, and the table exists with the
alternate key ``bs_jobprofile`` *(doc)*, though Towne Park's code ignores it.
The payroll budget reads every row before it applies the mapping's rules: a
row gives a budget job profile its Legion job code (``bs_jobcode``). The
hub-proposed ``bs_sitenumber`` limits a row to one site; a row without one
holds for every site. The lookup ``bs_customersitefk`` is not read: it names a
row id, and the site number says the same without a second query.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from shared.connectors.dataverse.client import DataverseClient
from shared.sites import site_number

ENTITY_SET = "bs_forecastjobprofilemappings"


@dataclass(frozen=True)
class HandMappings:
    """The codes given by hand: for one site first, then for every site."""

    by_site: Mapping[tuple[str, str], str]  # (site, profile) → job code
    everywhere: Mapping[str, str]  # profile → job code

    def code_for(self, site: str, profile: str) -> str | None:
        name = profile.strip().upper()
        return self.by_site.get((site, name)) or self.everywhere.get(name)


NO_HAND_MAPPINGS = HandMappings({}, {})
ReadHandMappings = Callable[[], HandMappings]


def dataverse_hand_mappings(client: DataverseClient) -> ReadHandMappings:
    """A reader of every ``bs_forecastjobprofilemapping`` row with a profile and a code."""

    def read() -> HandMappings:
        by_site: dict[tuple[str, str], str] = {}
        everywhere: dict[str, str] = {}
        for row in client.query(ENTITY_SET, ("bs_jobprofile", "bs_jobcode", "bs_sitenumber")):
            profile = (row.get("bs_jobprofile") or "").strip().upper()
            code = (row.get("bs_jobcode") or "").strip().upper()
            if not profile or not code:
                continue
            site = site_number(row.get("bs_sitenumber"))
            if site is None:
                everywhere[profile] = code
            else:
                by_site[(site, profile)] = code
        return HandMappings(by_site, everywhere)

    return read
