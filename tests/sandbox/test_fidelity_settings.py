"""The sandbox environment's settings: its collation and how long change tracking keeps a delta token."""

from __future__ import annotations

import time
from urllib.parse import quote

import httpx
import pytest

from tests.fixtures.dataverse_sandbox import DataverseSandbox

pytestmark = pytest.mark.services

TRACK = {"Prefer": "odata.track-changes"}
EXPIRED = {
    "code": "0x80044352",
    "message": "Version stamp associated with the client has expired. Please perform a full sync.",
}


def _titles(api: httpx.Client, filter: str) -> list[str]:
    answer = api.get("bs_jobcodes", params={"$select": "bs_jobtitle", "$filter": filter})
    assert answer.status_code == 200, answer.text
    return [row["bs_jobtitle"] for row in answer.json()["value"]]


def test_keys_and_filters_ignore_case_and_accents_by_default(dataverse_sandbox: DataverseSandbox) -> None:
    with dataverse_sandbox.client() as api:
        assert api.patch("bs_jobcodes(bs_jobcode='Café')", json={"bs_jobtitle": "first"}).status_code == 204
        assert api.patch("bs_jobcodes(bs_jobcode='CAFE')", json={"bs_jobtitle": "second"}).status_code == 204
        created_only = api.patch(
            "bs_jobcodes(bs_jobcode='cafe')", json={"bs_jobtitle": "x"}, headers={"If-None-Match": "*"}
        )
        assert created_only.status_code == 412
        assert _titles(api, "bs_jobcode eq 'cafe'") == ["second"]
        assert api.get("bs_jobcodes(bs_jobcode='Cafè')").json()["bs_jobcode"] == "Café"


def test_an_accent_sensitive_environment_keeps_cafe_and_cafe_apart(
    dataverse_sandbox: DataverseSandbox,
) -> None:
    assert dataverse_sandbox.settings(collation="CI_AS")["collation"] == "CI_AS"
    with dataverse_sandbox.client() as api:
        api.patch("bs_jobcodes(bs_jobcode='Café')", json={"bs_jobtitle": "accented"})
        api.patch("bs_jobcodes(bs_jobcode='CAFE')", json={"bs_jobtitle": "plain"})
        assert _titles(api, "bs_jobcode eq 'café'") == ["accented"]
        assert sorted(_titles(api, "startswith(bs_jobcode,'caf')")) == ["accented", "plain"]


def test_the_collation_cannot_change_once_rows_are_stored(dataverse_sandbox: DataverseSandbox) -> None:
    with dataverse_sandbox.client() as api:
        api.patch("bs_jobcodes(bs_jobcode='VALET')", json={"bs_jobtitle": "Valet"})
    with httpx.Client(verify=dataverse_sandbox.tls()) as admin:
        refused = admin.post(f"{dataverse_sandbox.url}/sandbox/settings", json={"collation": "CI_AS"})
        assert refused.status_code == 400
        assert "reset" in refused.json()["error"]
        unknown = admin.post(f"{dataverse_sandbox.url}/sandbox/settings", json={"collation": "BIN2"})
        assert unknown.status_code == 400
    dataverse_sandbox.reset()
    assert dataverse_sandbox.settings(collation="CI_AS")["collation"] == "CI_AS"
    dataverse_sandbox.reset()
    assert dataverse_sandbox.settings()["collation"] == "CI_AI"


def _delta_link(api: httpx.Client) -> str:
    answer = api.get("bs_jobcodes?$select=bs_jobtitle", headers=TRACK)
    assert answer.status_code == 200, answer.text
    link: str = answer.json()["@odata.deltaLink"]
    return link


def test_a_delta_token_from_2001_is_refused_as_expired(dataverse_sandbox: DataverseSandbox) -> None:
    with dataverse_sandbox.client() as api:
        link = _delta_link(api)
        assert api.get(link, headers=TRACK).status_code == 200
        version = link.rsplit("$deltatoken=", 1)[1].split("%21")[0]
        old = (
            link.rsplit("$deltatoken=", 1)[0]
            + "$deltatoken="
            + quote(f"{version}!01/01/2001 00:00:00", safe="")
        )
        refused = api.get(old, headers=TRACK)
        assert refused.status_code == 400
        assert refused.json() == {"error": EXPIRED}


def test_change_tracking_retention_is_a_setting(dataverse_sandbox: DataverseSandbox) -> None:
    assert dataverse_sandbox.settings(change_tracking_seconds=1)["change_tracking_seconds"] == 1
    with dataverse_sandbox.client() as api:
        link = _delta_link(api)
        assert api.get(link, headers=TRACK).status_code == 200
        time.sleep(2.1)  # the token's clock has whole seconds
        assert api.get(link, headers=TRACK).json() == {"error": EXPIRED}
        assert "@odata.deltaLink" in api.get(_delta_link(api), headers=TRACK).json()
