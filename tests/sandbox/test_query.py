"""Sandbox Dataverse queries: ``$select``, ``$filter``, ``$orderby``, ``$top``, ``$count`` and paging."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.fixtures.dataverse_sandbox import DataverseSandbox

pytestmark = pytest.mark.services

SITES: list[dict[str, Any]] = [
    {"bs_sitenumber": "0101", "bs_sitename": "Airport Garage", "bs_rooms": None, "bs_district": "East"},
    {"bs_sitenumber": "0102", "bs_sitename": "Harbor Hotel", "bs_rooms": 250, "bs_district": "East"},
    {"bs_sitenumber": "0103", "bs_sitename": "Hospital Lot", "bs_rooms": 0, "bs_district": "West"},
    {"bs_sitenumber": "0104", "bs_sitename": "Convention Center", "bs_rooms": 900, "bs_district": "West"},
    {"bs_sitenumber": "0105", "bs_sitename": "Downtown Hotel", "bs_rooms": 180, "bs_district": "North"},
]


@pytest.fixture
def api(dataverse_sandbox: DataverseSandbox) -> Iterator[httpx.Client]:
    with dataverse_sandbox.client() as client:
        for site in SITES:
            number = site["bs_sitenumber"]
            body = {name: value for name, value in site.items() if name != "bs_sitenumber"}
            assert client.patch(f"bs_customersites(bs_sitenumber='{number}')", json=body).status_code == 204
        yield client


def _numbers(api: httpx.Client, query: str, **headers: str) -> list[str]:
    answer = api.get(f"bs_customersites?$select=bs_sitenumber&{query}", headers=headers)
    assert answer.status_code == 200, answer.text
    return [row["bs_sitenumber"] for row in answer.json()["value"]]


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("bs_district eq 'east'", ["0101", "0102"]),  # string comparisons ignore case
        ("bs_district ne 'East'", ["0103", "0104", "0105"]),
        ("bs_rooms gt 180", ["0102", "0104"]),
        ("bs_rooms ge 180", ["0102", "0104", "0105"]),
        ("bs_rooms lt 180", ["0103"]),  # null is not less than anything
        ("bs_rooms le 0", ["0103"]),
        ("bs_rooms eq null", ["0101"]),
        ("bs_rooms ne null and bs_district eq 'West'", ["0103", "0104"]),
        ("bs_district eq 'North' or bs_rooms eq 250", ["0102", "0105"]),
        ("(bs_district eq 'East' or bs_district eq 'West') and bs_rooms gt 100", ["0102", "0104"]),
        ("not (bs_district eq 'East')", ["0103", "0104", "0105"]),
        ("contains(bs_sitename,'hotel')", ["0102", "0105"]),
        ("startswith(bs_sitename,'H') and endswith(bs_sitename,'Lot')", ["0103"]),
        ("bs_sitenumber ge '0103' and bs_sitenumber le '0104'", ["0103", "0104"]),
    ],
)
def test_filter(api: httpx.Client, expression: str, expected: list[str]) -> None:
    assert sorted(_numbers(api, f"$filter={expression}")) == expected


def test_filter_refuses_mixed_types_and_bad_syntax(api: httpx.Client) -> None:
    mixed = api.get("bs_customersites?$filter=bs_sitename eq 5")
    assert mixed.status_code == 400
    assert "incompatible types" in mixed.json()["error"]["message"]
    assert api.get("bs_customersites?$filter=bs_rooms eq").status_code == 400
    assert api.get("bs_customersites?$filter=(bs_rooms eq 1").status_code == 400


def test_select_returns_only_those_columns_plus_the_id(api: httpx.Client) -> None:
    answer = api.get("bs_customersites?$select=bs_sitename,bs_rooms&$filter=bs_sitenumber eq '0102'").json()
    assert answer["@odata.context"].endswith("$metadata#bs_customersites(bs_sitename,bs_rooms)")
    (row,) = answer["value"]
    assert set(row) == {"@odata.etag", "bs_sitename", "bs_rooms", "bs_customersiteid"}


def test_orderby_top_and_count(api: httpx.Client) -> None:
    assert _numbers(api, "$orderby=bs_rooms desc,bs_sitenumber") == ["0104", "0102", "0105", "0103", "0101"]
    assert _numbers(api, "$orderby=bs_rooms") == ["0101", "0103", "0105", "0102", "0104"]  # nulls first
    assert _numbers(api, "$orderby=bs_district,bs_sitename desc&$top=3") == ["0102", "0101", "0105"]
    counted = api.get("bs_customersites?$select=bs_sitenumber&$count=true&$top=1").json()
    assert counted["@odata.count"] == 5 and len(counted["value"]) == 1
    count = api.get("bs_customersites/$count")
    assert (count.status_code, count.text, count.headers["content-type"]) == (200, "5", "text/plain")


def _pages(api: httpx.Client, url: str, page_size: int) -> list[dict[str, Any]]:
    pages = []
    while url:
        answer = api.get(url, headers={"Prefer": f"odata.maxpagesize={page_size}"})
        assert answer.status_code == 200
        assert answer.headers["Preference-Applied"] == f"odata.maxpagesize={page_size}"
        pages.append(answer.json())
        url = answer.json().get("@odata.nextLink", "")
    return pages


def test_maxpagesize_pages_with_next_links(api: httpx.Client) -> None:
    pages = _pages(api, "bs_customersites?$select=bs_sitenumber", 2)

    assert [len(page["value"]) for page in pages] == [2, 2, 1]
    assert sorted(row["bs_sitenumber"] for page in pages for row in page["value"]) == [
        s["bs_sitenumber"] for s in SITES
    ]
    link = pages[0]["@odata.nextLink"]
    assert link.startswith(
        f"{api.base_url}bs_customersites?$select=bs_sitenumber&$skiptoken=%3Ccookie%20pagenumber"
    )
    assert "@odata.nextLink" not in pages[-1]


def test_paging_an_ordered_filtered_query_keeps_its_options(api: httpx.Client) -> None:
    pages = _pages(
        api, "bs_customersites?$select=bs_sitenumber&$filter=bs_rooms ne null&$orderby=bs_rooms desc", 3
    )
    assert [[row["bs_sitenumber"] for row in page["value"]] for page in pages] == [
        ["0104", "0102", "0105"],
        ["0103"],
    ]


def test_paging_survives_writes_between_pages(api: httpx.Client) -> None:
    first = api.get(
        "bs_customersites?$select=bs_sitenumber", headers={"Prefer": "odata.maxpagesize=2"}
    ).json()
    already_read = first["value"][0]["bs_sitenumber"]
    api.delete(
        f"bs_customersites(bs_sitenumber='{already_read}')"
    )  # by position, the next page would skip a row
    rest = _pages(api, first["@odata.nextLink"], 2)
    seen = [row["bs_sitenumber"] for row in first["value"]] + [
        row["bs_sitenumber"] for page in rest for row in page["value"]
    ]
    assert len(seen) == len(set(seen)) == 5  # nothing repeated, nothing skipped


def test_top_is_ignored_with_a_page_size_and_skip_is_refused(api: httpx.Client) -> None:
    both = api.get("bs_customersites?$select=bs_sitenumber&$top=1", headers={"Prefer": "odata.maxpagesize=4"})
    assert len(both.json()["value"]) == 4 and "@odata.nextLink" in both.json()
    skip = api.get("bs_customersites?$skip=2")
    assert skip.status_code == 400 and "$skip" in skip.json()["error"]["message"]
