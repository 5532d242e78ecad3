"""Sandbox Dataverse ``$batch``: multipart in and out, change sets all-or-nothing, continue-on-error."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.fixtures.dataverse_sandbox import DataverseSandbox
from tests.sandbox.multipart import ChangeSet, Op, post_batch, read_batch

pytestmark = pytest.mark.services

PATH = "/api/data/v9.2/"


@pytest.fixture
def api(dataverse_sandbox: DataverseSandbox) -> Iterator[httpx.Client]:
    with dataverse_sandbox.client() as client:
        yield client


def _job(code: str) -> str:
    return f"{PATH}bs_jobcodes(bs_jobcode='{code}')"


def test_individual_requests_answer_in_order_in_microsofts_shape(
    api: httpx.Client, dataverse_sandbox: DataverseSandbox
) -> None:
    response = post_batch(
        api,
        [
            Op("PATCH", _job("VALET-01"), {"bs_jobtitle": "Valet"}),  # absolute path, as Microsoft's examples
            Op(
                "PATCH",
                f"{dataverse_sandbox.web_api}bs_jobcodes(bs_jobcode='CASH-01')",
                {"bs_jobtitle": "Cashier"},
            ),
            Op("POST", "bs_glrequestlogs", {"bs_status": "queued"}),  # relative to the root
            Op("GET", f"{PATH}bs_jobcodes?$select=bs_jobcode&$orderby=bs_jobcode"),
        ],
    )

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("multipart/mixed; boundary=batchresponse_")
    answers = [item for (item,) in read_batch(response)]
    assert [answer.status for answer in answers] == [204, 204, 204, 200]
    assert (
        answers[0].headers["odata-entityid"]
        == f"{dataverse_sandbox.web_api}bs_jobcodes(bs_jobcode='VALET-01')"
    )
    assert answers[2].headers["location"] == answers[2].headers["odata-entityid"]
    assert [row["bs_jobcode"] for row in answers[3].json()["value"]] == ["CASH-01", "VALET-01"]
    assert dataverse_sandbox.stats()["batches"] == 1


def test_a_change_set_commits_together_with_content_id_references(api: httpx.Client) -> None:
    response = post_batch(
        api,
        [
            ChangeSet(
                (
                    Op("POST", f"{PATH}bs_customersites", {"bs_sitenumber": "0170"}, content_id="1"),
                    Op("POST", f"{PATH}bs_contracts", {"bs_CustomerSiteFK@odata.bind": "$1"}, content_id="2"),
                    Op("PATCH", "$2", {"bs_billingtype": 126840000}, content_id="3"),
                )
            ),
        ],
    )

    assert response.status_code == 200
    [change_set] = read_batch(response)
    assert [(answer.status, answer.content_id) for answer in change_set] == [
        (204, "1"),
        (204, "2"),
        (204, "3"),
    ]
    site_id = api.get("bs_customersites(bs_sitenumber='0170')").json()["bs_customersiteid"]
    contract = api.get(f"bs_contracts(_bs_customersitefk_value={site_id})").json()
    assert contract["bs_billingtype"] == 126840000


def test_a_failing_change_set_rolls_back_all_of_it(api: httpx.Client) -> None:
    api.patch("bs_jobcodes(bs_jobcode='CASH-01')", json={"bs_jobtitle": "Cashier"})
    response = post_batch(
        api,
        [
            ChangeSet(
                (
                    Op("PATCH", _job("VALET-01"), {"bs_jobtitle": "Valet"}, content_id="1"),
                    Op("PATCH", _job("CASH-01"), {"bs_jobtitle": "Head Cashier"}, content_id="2"),
                    Op(
                        "PATCH",
                        _job("CASH-01"),
                        {"bs_jobtitle": "x"},
                        (("If-None-Match", "*"),),
                        content_id="3",
                    ),
                )
            ),
        ],
        prefer="odata.continue-on-error",
    )

    assert response.status_code == 200
    [[failure]] = read_batch(response)  # a failed change set answers with the one failing request
    assert (failure.status, failure.content_id) == (412, "3")
    assert failure.json()["error"]["message"] == "A record with matching key values already exists."
    assert api.get("bs_jobcodes(bs_jobcode='VALET-01')").status_code == 404
    assert api.get("bs_jobcodes(bs_jobcode='CASH-01')").json()["bs_jobtitle"] == "Cashier"


def test_without_continue_on_error_the_batch_stops_at_the_first_failure(api: httpx.Client) -> None:
    response = post_batch(
        api,
        [
            Op("PATCH", _job("A"), {"bs_jobtitle": "a"}),
            Op("PATCH", _job("B"), {"bs_jobtitle": "b"}, (("If-Match", "*"),)),  # B does not exist
            Op("PATCH", _job("C"), {"bs_jobtitle": "c"}),
        ],
    )

    assert response.status_code == 404  # the batch takes the failed request's status
    answers = [item for (item,) in read_batch(response)]
    assert [answer.status for answer in answers] == [204, 404]
    assert answers[1].json()["error"]["code"] == "0x80060891"
    assert api.get("bs_jobcodes(bs_jobcode='A')").status_code == 200
    assert api.get("bs_jobcodes(bs_jobcode='C')").status_code == 404


def test_with_continue_on_error_every_request_runs(api: httpx.Client) -> None:
    response = post_batch(
        api,
        [
            Op("PATCH", _job("A"), {"bs_jobtitle": "a"}),
            Op("PATCH", _job("B"), {"bs_jobtitle": "b"}, (("If-Match", "*"),)),
            Op("PATCH", f"{PATH}bs_jobcodes(bs_nosuchkey='x')", {}),
            Op("PATCH", _job("C"), {"bs_jobtitle": "c"}),
        ],
        prefer="odata.continue-on-error",
    )

    assert response.status_code == 200
    assert response.headers["Preference-Applied"] == "odata.continue-on-error"
    assert [item[0].status for item in read_batch(response)] == [204, 404, 400, 204]
    assert api.get("bs_jobcodes(bs_jobcode='C')").status_code == 200


def test_a_thousand_requests_is_the_limit(api: httpx.Client, dataverse_sandbox: DataverseSandbox) -> None:
    ops: list[Op | ChangeSet] = [
        Op("PATCH", _job(f"J{n:04d}"), {"bs_jobtitle": f"Job {n}"}) for n in range(1000)
    ]
    assert post_batch(api, ops, prefer="odata.continue-on-error").status_code == 200
    assert api.get("bs_jobcodes/$count").text == "1000"

    too_many = post_batch(api, [*ops, Op("PATCH", _job("ONE-MORE"), {})])
    assert too_many.status_code == 400
    assert "1000" in too_many.json()["error"]["message"]
    assert api.get("bs_jobcodes(bs_jobcode='ONE-MORE')").status_code == 404
    stats = dataverse_sandbox.stats()
    assert (stats["batches"], stats["batch_requests"]) == (2, 2001)


def test_malformed_batches_are_400(api: httpx.Client) -> None:
    no_boundary = api.post("$batch", content=b"--x\r\n", headers={"Content-Type": "multipart/mixed"})
    assert no_boundary.status_code == 400
    unclosed = api.post(
        "$batch",
        content=b"--b\r\nContent-Type: application/http\r\n\r\nGET bs_jobcodes HTTP/1.1\r\n\r\n",
        headers={"Content-Type": "multipart/mixed; boundary=b"},
    )
    assert unclosed.status_code == 400
    get_in_change_set = post_batch(api, [ChangeSet((Op("GET", f"{PATH}bs_jobcodes"),))])
    assert get_in_change_set.status_code == 400
