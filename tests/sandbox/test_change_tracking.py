"""Sandbox Dataverse change tracking: ``Prefer: odata.track-changes``, delta links, ``$deletedEntity``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.fixtures.dataverse_sandbox import DataverseSandbox

pytestmark = pytest.mark.services

TRACK = {"Prefer": "odata.track-changes"}


@pytest.fixture
def api(dataverse_sandbox: DataverseSandbox) -> Iterator[httpx.Client]:
    with dataverse_sandbox.client() as client:
        for code, title in (("VALET", "Valet"), ("CASH", "Cashier"), ("DOOR", "Doorman")):
            client.patch(
                f"bs_jobcodes(bs_jobcode='{code}')", json={"bs_jobtitle": title, "bs_group": "Front"}
            )
        yield client


def _follow(api: httpx.Client, url: str, headers: dict[str, str]) -> tuple[list[dict[str, Any]], str]:
    """Every entry across the pages, and the delta link the last page ends with."""
    entries: list[dict[str, Any]] = []
    while True:
        answer = api.get(url, headers=headers)
        assert answer.status_code == 200, answer.text
        page = answer.json()
        entries += page["value"]
        if "@odata.nextLink" in page:
            assert "@odata.deltaLink" not in page
            url = page["@odata.nextLink"]
            continue
        return entries, page["@odata.deltaLink"]


def test_the_first_call_returns_every_row_and_a_delta_link(api: httpx.Client) -> None:
    answer = api.get("bs_jobcodes?$select=bs_jobcode,bs_jobtitle", headers=TRACK)

    assert answer.headers["Preference-Applied"] == "odata.track-changes"
    body = answer.json()
    assert body["@odata.context"].endswith("$metadata#bs_jobcodes(bs_jobcode,bs_jobtitle)")
    assert sorted(row["bs_jobcode"] for row in body["value"]) == ["CASH", "DOOR", "VALET"]
    assert body["@odata.deltaLink"].startswith(
        f"{api.base_url}bs_jobcodes?$select=bs_jobcode,bs_jobtitle&$deltatoken="
    )


def test_the_delta_link_returns_changes_and_deletions_since(api: httpx.Client) -> None:
    _, delta_link = _follow(api, "bs_jobcodes?$select=bs_jobcode,bs_jobtitle", TRACK)
    api.patch("bs_jobcodes(bs_jobcode='CASH')", json={"bs_jobtitle": "Head Cashier"})
    api.patch("bs_jobcodes(bs_jobcode='SHUTTLE')", json={"bs_jobtitle": "Shuttle Driver"})
    door_id = api.get("bs_jobcodes(bs_jobcode='DOOR')").json()["bs_jobcodeid"]
    api.delete("bs_jobcodes(bs_jobcode='DOOR')")
    api.patch("bs_jobcodes(bs_jobcode='BELL')", json={"bs_jobtitle": "Bell"})
    bell_id = api.get("bs_jobcodes(bs_jobcode='BELL')").json()["bs_jobcodeid"]
    api.delete("bs_jobcodes(bs_jobcode='BELL')")  # created and deleted between calls: still reported deleted

    answer = api.get(delta_link)
    body = answer.json()

    assert body["@odata.context"].endswith("$metadata#bs_jobcodes(bs_jobcode,bs_jobtitle)/$delta")
    changed = [entry for entry in body["value"] if "reason" not in entry]
    deleted = [entry for entry in body["value"] if "reason" in entry]
    assert body["value"] == changed + deleted  # changed rows come first
    assert sorted((row["bs_jobcode"], row["bs_jobtitle"]) for row in changed) == [
        ("CASH", "Head Cashier"),
        ("SHUTTLE", "Shuttle Driver"),
    ]
    assert sorted(entry["id"] for entry in deleted) == sorted([door_id, bell_id])
    for entry in deleted:
        assert entry == {
            "@odata.context": f"{api.base_url}$metadata#bs_jobcodes/$deletedEntity",
            "id": entry["id"],
            "reason": "deleted",
        }

    again = api.get(body["@odata.deltaLink"]).json()
    assert again["value"] == []  # nothing since the last delta link


def test_delta_pages_follow_next_links_to_one_delta_link(api: httpx.Client) -> None:
    _, delta_link = _follow(
        api, "bs_jobcodes?$select=bs_jobtitle", {"Prefer": "odata.track-changes,odata.maxpagesize=2"}
    )
    for number in range(5):
        api.patch(f"bs_jobcodes(bs_jobcode='NEW{number}')", json={"bs_jobtitle": f"New {number}"})
    api.delete("bs_jobcodes(bs_jobcode='VALET')")

    entries, next_delta = _follow(api, delta_link, {"Prefer": "odata.track-changes,odata.maxpagesize=2"})

    assert len(entries) == 6 and sum("reason" in entry for entry in entries) == 1
    assert next_delta != delta_link


def test_rows_written_while_paging_wait_for_the_next_delta(api: httpx.Client) -> None:
    headers = {"Prefer": "odata.track-changes,odata.maxpagesize=2"}
    first = api.get("bs_jobcodes?$select=bs_jobcode", headers=headers).json()
    api.patch("bs_jobcodes(bs_jobcode='LATE')", json={"bs_jobtitle": "Late"})
    rest, delta_link = _follow(api, first["@odata.nextLink"], headers)

    initial = [row["bs_jobcode"] for row in first["value"] + rest]
    assert sorted(initial) == ["CASH", "DOOR", "VALET"]
    later, _ = _follow(api, delta_link, headers)
    assert [row["bs_jobcode"] for row in later] == ["LATE"]


@pytest.mark.parametrize("option", ["$filter=bs_group eq 'Front'", "$orderby=bs_jobcode", "$top=1"])
def test_query_options_change_tracking_refuses(api: httpx.Client, option: str) -> None:
    answer = api.get(f"bs_jobcodes?$select=bs_jobcode&{option}", headers=TRACK)
    assert answer.status_code == 400
    name = option.split("=", maxsplit=1)[0]
    assert (
        answer.json()["error"]["message"]
        == f'The "{name}" query parameter isn\'t supported when Change Tracking is enabled.'
    )


def test_a_mangled_delta_token_is_400(api: httpx.Client) -> None:
    assert api.get("bs_jobcodes?$deltatoken=not-a-token").status_code == 400
