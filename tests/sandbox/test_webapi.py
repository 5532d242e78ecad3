"""Sandbox Dataverse, single requests: keyed upserts, conditional writes, creates, reads and deletes."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.fixtures.dataverse_sandbox import DataverseSandbox

pytestmark = pytest.mark.services

SITE = "bs_mastercustomersites(bs_sitenumber='0170')"


@pytest.fixture
def api(dataverse_sandbox: DataverseSandbox) -> Iterator[httpx.Client]:
    with dataverse_sandbox.client() as client:
        yield client


def _error(response: httpx.Response) -> tuple[str, str]:
    error = response.json()["error"]
    return error["code"], error["message"]


def test_upsert_by_alternate_key_creates_then_updates_with_204(api: httpx.Client) -> None:
    created = api.patch(SITE, json={"bs_sitename": "Towne Park Hotel", "bs_rooms": 120})
    updated = api.patch(SITE, json={"bs_sitename": "Towne Park Hotel & Spa"})

    for answer in (created, updated):
        assert answer.status_code == 204 and answer.content == b""
        assert answer.headers["OData-Version"] == "4.0"
        assert answer.headers["OData-EntityId"] == f"{api.base_url}{SITE}"
    row = api.get(SITE).json()
    assert (row["bs_sitenumber"], row["bs_sitename"], row["bs_rooms"]) == (
        "0170",
        "Towne Park Hotel & Spa",
        120,
    )


def test_return_representation_says_201_for_create_and_200_for_update(api: httpx.Client) -> None:
    prefer = {"Prefer": "return=representation"}
    created = api.patch(f"{SITE}?$select=bs_sitename", json={"bs_sitename": "A"}, headers=prefer)
    updated = api.patch(f"{SITE}?$select=bs_sitename", json={"bs_sitename": "B"}, headers=prefer)

    assert (created.status_code, updated.status_code) == (201, 200)
    assert updated.headers["Preference-Applied"] == "return=representation"
    body = updated.json()
    assert body["@odata.context"].endswith("$metadata#bs_mastercustomersites(bs_sitename)/$entity")
    assert body["bs_sitename"] == "B" and "bs_mastercustomersiteid" in body
    assert updated.headers["ETag"] == body["@odata.etag"] != created.json()["@odata.etag"]


def test_if_match_star_only_updates(api: httpx.Client) -> None:
    missing = api.patch(SITE, json={"bs_sitename": "x"}, headers={"If-Match": "*"})
    assert missing.status_code == 404
    assert _error(missing) == (
        "0x80060891",
        "A record with the specified key values does not exist in bs_mastercustomersite entity",
    )
    assert api.get(SITE).status_code == 404

    api.patch(SITE, json={"bs_sitename": "x"})
    assert api.patch(SITE, json={"bs_sitename": "y"}, headers={"If-Match": "*"}).status_code == 204


def test_if_none_match_star_by_primary_key_only_creates(api: httpx.Client) -> None:
    row = "bs_mastercustomersites(6f2c1a4e-0b7d-4c1e-9a3f-2d5e8b7c9a01)"
    created = api.patch(
        row, json={"bs_sitenumber": "0170", "bs_sitename": "first"}, headers={"If-None-Match": "*"}
    )
    assert created.status_code == 204
    again = api.patch(row, json={"bs_sitename": "second"}, headers={"If-None-Match": "*"})

    assert again.status_code == 412
    assert _error(again) == ("", "A record with matching key values already exists.")  # Microsoft's example
    assert api.get(SITE).json()["bs_sitename"] == "first"


def test_if_none_match_star_by_alternate_key_creates_nothing(api: httpx.Client) -> None:
    missing = api.patch(SITE, json={"bs_sitename": "first"}, headers={"If-None-Match": "*"})

    assert missing.status_code == 404 and _error(missing)[0] == "0x80060891"
    assert api.get(SITE).status_code == 404
    api.patch(SITE, json={"bs_sitename": "there"})
    present = api.patch(SITE, json={"bs_sitename": "second"}, headers={"If-None-Match": "*"})
    assert present.status_code == 412 and api.get(SITE).json()["bs_sitename"] == "there"


def test_post_with_key_columns_never_overwrites(api: httpx.Client) -> None:
    first = api.post("bs_mastercustomersites", json={"bs_sitenumber": "0170", "bs_sitename": "first"})
    assert first.status_code == 204

    again = api.post("bs_mastercustomersites", json={"bs_sitenumber": "0170", "bs_sitename": "second"})
    assert again.status_code == 412
    assert _error(again) == (
        "0x80060892",
        "Entity Key bs_sitenumber_key violated. A record with the same value for bs_sitenumber already "
        "exists. A duplicate record cannot be created. Select one or more unique values and try again.",
    )
    assert api.get(SITE).json()["bs_sitename"] == "first"


def test_an_unknown_column_is_refused_in_a_write_and_in_select(api: httpx.Client) -> None:
    written = api.patch(SITE, json={"bs_sitename": "Garage", "bs_sitenmae": "typo"})
    assert written.status_code == 400
    code, message = _error(written)
    assert code == "0x0" and "Invalid property 'bs_sitenmae' was found in entity" in message
    assert "'Microsoft.Dynamics.CRM.bs_mastercustomersite'" in message
    assert api.get(SITE).status_code == 404  # nothing was stored

    created = api.post("bs_mastercustomersites", json={"bs_sitenumber": "0170", "bs_sitenmae": "typo"})
    assert created.status_code == 400 and api.get(SITE).status_code == 404

    api.patch(SITE, json={"bs_sitename": "Garage"})
    for path in (f"{SITE}?$select=bs_sitenmae", "bs_mastercustomersites?$select=bs_sitename,bs_sitenmae"):
        selected = api.get(path)
        assert selected.status_code == 400
        assert _error(selected) == (
            "0x0",
            "Could not find a property named 'bs_sitenmae' on type 'Microsoft.Dynamics.CRM.bs_mastercustomersite'.",
        )

    bound = api.post(
        "bs_contracts", json={"bs_nosuchlookup@odata.bind": "/bs_customersites(bs_sitenumber='1')"}
    )
    assert bound.status_code == 400 and "An undeclared property 'bs_nosuchlookup'" in _error(bound)[1]


def test_if_match_etag_is_optimistic_concurrency(api: httpx.Client) -> None:
    api.patch(SITE, json={"bs_sitename": "read by the hub"})
    etag = api.get(SITE).json()["@odata.etag"]
    api.patch(SITE, json={"bs_sitename": "edited in Dataverse meanwhile"})

    stale = api.patch(SITE, json={"bs_sitename": "hub's write"}, headers={"If-Match": etag})
    assert stale.status_code == 412
    assert _error(stale) == (
        "",  # as Microsoft's example shows
        "The version of the existing record doesn't match the RowVersion property provided.",
    )
    current = api.get(SITE).json()["@odata.etag"]
    assert (
        api.patch(SITE, json={"bs_sitename": "hub's write"}, headers={"If-Match": current}).status_code == 204
    )
    assert (
        api.delete(SITE, headers={"If-Match": current}).status_code == 412
    )  # the write moved the version on


def test_key_values_use_odata_literals(api: httpx.Client) -> None:
    odd = "bs_actionoverrideses(bs_name='O''Brien%20override')"
    assert api.patch(odd, json={"bs_value": "yes", "bs_isactive": True}).status_code == 204
    found = api.get("bs_actionoverrideses?$filter=bs_name eq 'O''Brien override'").json()["value"]
    assert [row["bs_name"] for row in found] == ["O'Brien override"]

    two_part = "bs_jobcodesbysites(bs_jobcode='VALET',bs_sitenumber='0170')"
    assert api.patch(two_part, json={"bs_activeemployees": 4}).status_code == 204
    reordered = api.get("bs_jobcodesbysites(bs_sitenumber='0170',bs_jobcode='VALET')")
    assert reordered.status_code == 200 and reordered.json()["bs_activeemployees"] == 4


def test_numeric_key_values_and_guid_addressing(api: httpx.Client) -> None:
    numeric = "bs_billableexpenses(bs_siteid=170,bs_period='2025-05')"
    assert api.patch(numeric, json={"bs_amount": 1250.5}).status_code == 204
    row = api.get(numeric).json()
    assert (row["bs_siteid"], row["bs_period"], row["bs_amount"]) == (170, "2025-05", 1250.5)

    row_id = "0f8fad5b-d9cb-469f-a165-70867728950e"
    created = api.patch(f"bs_glrequestlogs({row_id})", json={"bs_status": "queued"})
    assert created.status_code == 204
    assert created.headers["OData-EntityId"] == f"{api.base_url}bs_glrequestlogs({row_id})"
    assert api.get(f"bs_glrequestlogs({row_id})").json()["bs_glrequestlogid"] == row_id


def test_a_key_that_is_not_an_alternate_key_is_400(api: httpx.Client) -> None:
    answer = api.patch("bs_jobcodesbysites(bs_jobcode='VALET')", json={})
    assert answer.status_code == 400
    assert _error(answer)[1].startswith(
        "The key in the request URI is not valid for resource 'Microsoft.Dynamics.CRM.bs_jobcodesbysite'."
    )


def test_values_round_trip_as_json_types(api: httpx.Client) -> None:
    values = {
        "bs_sitename": "Lot 7",
        "bs_rooms": 0,
        "bs_parkingrate": 12.75,
        "bs_isactive": False,
        "bs_note": None,
    }
    api.patch(SITE, json=values)
    row = api.get(f"{SITE}?$select={','.join(values)}").json()
    assert {name: row[name] for name in values} == values


def test_key_columns_in_the_body_are_dropped_on_update_and_kept_on_create(api: httpx.Client) -> None:
    api.patch(SITE, json={"bs_sitenumber": "0170", "bs_sitename": "created"})
    api.patch(SITE, json={"bs_sitenumber": "9999", "bs_sitename": "updated"})

    assert api.get(SITE).json()["bs_sitename"] == "updated"
    assert api.get("bs_mastercustomersites(bs_sitenumber='9999')").status_code == 404


def test_post_creates_and_a_duplicate_key_is_412(api: httpx.Client) -> None:
    created = api.post("bs_jobcodes", json={"bs_jobcode": "CASH-01", "bs_jobtitle": "Cashier"})
    assert created.status_code == 204
    entity_id = created.headers["OData-EntityId"]
    assert entity_id.startswith(f"{api.base_url}bs_jobcodes(")
    row_id = entity_id.rsplit("(", 1)[1].rstrip(")")
    assert api.get(f"bs_jobcodes({row_id})").json()["bs_jobtitle"] == "Cashier"
    assert api.get(f"bs_jobcodes(bs_jobcodeid={row_id})").json()["bs_jobcode"] == "CASH-01"

    duplicate = api.post(
        "bs_jobcodes", json={"bs_jobcode": "cash-01"}
    )  # keys ignore case, as SQL collation does
    assert duplicate.status_code == 412 and _error(duplicate)[0] == "0x80060892"


def test_post_with_return_representation_is_201(api: httpx.Client) -> None:
    answer = api.post(
        "bs_glrequestlogs?$select=bs_status",
        json={"bs_status": "queued"},
        headers={"Prefer": "return=representation"},
    )
    assert answer.status_code == 201
    assert answer.json()["bs_status"] == "queued" and answer.json()["bs_glrequestlogid"]


def test_get_selects_columns_and_answers_304_for_an_unchanged_etag(api: httpx.Client) -> None:
    api.patch(SITE, json={"bs_sitename": "Garage", "bs_glstring": "02-0170-000"})
    row = api.get(f"{SITE}?$select=bs_sitename")

    assert row.status_code == 200
    body = row.json()
    assert set(body) == {"@odata.context", "@odata.etag", "bs_sitename", "bs_mastercustomersiteid"}
    assert body["@odata.etag"].startswith('W/"') and row.headers["ETag"] == body["@odata.etag"]
    unchanged = api.get(f"{SITE}?$select=bs_sitename", headers={"If-None-Match": body["@odata.etag"]})
    assert unchanged.status_code == 304


def test_delete_then_delete_again_is_404(api: httpx.Client) -> None:
    api.patch(SITE, json={"bs_sitename": "to go"})
    row_id = api.get(SITE).json()["bs_mastercustomersiteid"]

    assert api.delete(SITE).status_code == 204
    again = api.delete(SITE)
    assert again.status_code == 404 and _error(again)[0] == "0x80060891"
    by_id = api.get(f"bs_mastercustomersites({row_id})")
    assert by_id.status_code == 404
    assert _error(by_id) == ("", f"bs_mastercustomersite With Id = {row_id} Does Not Exist")


def test_lookups_bind_by_alternate_key_and_key_the_contract(api: httpx.Client) -> None:
    api.patch("bs_customersites(bs_sitenumber='0170')", json={"bs_sitename": "Towne Park Hotel"})
    site_id = api.get("bs_customersites(bs_sitenumber='0170')").json()["bs_customersiteid"]

    bound = api.post(
        "bs_contracts",
        json={
            "bs_CustomerSiteFK@odata.bind": "/bs_customersites(bs_sitenumber='0170')",
            "bs_billingtype": 126840001,
        },
    )
    assert bound.status_code == 204
    contract = api.get(f"bs_contracts(_bs_customersitefk_value={site_id})")
    assert contract.status_code == 200 and contract.json()["bs_billingtype"] == 126840001

    dangling = api.post(
        "bs_contracts", json={"bs_CustomerSiteFK@odata.bind": "/bs_customersites(bs_sitenumber='404')"}
    )
    assert dangling.status_code == 404


def test_unknown_tables_and_unsupported_requests(api: httpx.Client) -> None:
    unknown = api.get("bs_nosuchtables")
    assert unknown.status_code == 404
    assert _error(unknown) == ("0x8006088a", "Resource not found for the segment 'bs_nosuchtables'.")
    assert api.patch("bs_jobcodes(bs_jobcode='X')", content=b"{not json").status_code == 400
    assert api.patch("bs_jobcodes", json={}).status_code == 405
    not_here = api.get("bs_jobcodes?$expand=bs_jobgroup")
    assert not_here.status_code == 501 and "sandbox" in _error(not_here)[1]
