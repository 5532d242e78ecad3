"""Readiness and reconciliation of a planted month, through the real host, against the sandbox Dataverse and GP.

``localdev/billing_month.py`` plants one blocker of each kind and one
difference of each kind, and says which; each must be listed exactly once, and
nothing else. The CSV must parse with Python's ``csv`` into the same lines.
"""

from __future__ import annotations

import csv
import io

import pytest

from localdev.billing_month import Planted, reopen
from tests.fixtures.gp_sandbox import GpSandbox
from tests.fixtures.hub_host import HubHost

pytestmark = pytest.mark.services


def test_readiness_lists_each_planted_blocker_once_and_sees_a_fix_in_gp_at_once(
    hub_host: HubHost, planted: Planted, gp_sandbox: GpSandbox
) -> None:
    query = {"period": planted.period, "sites": ",".join(planted.sites)}
    with hub_host.client() as client:
        answer = client.get("/api/v1/billing/readiness", params=query)
        assert answer.status_code == 200, answer.text
        body = answer.json()

        found = [
            (site["siteNumber"], blocker["kind"]) for site in body["sites"] for blocker in site["blockers"]
        ]
        assert sorted(found) == sorted(planted.blockers.items())
        assert [site["siteNumber"] for site in body["sites"]] == sorted(planted.sites)
        assert body["blocked"] == len(planted.blockers)
        ready = {site["siteNumber"] for site in body["sites"] if site["ready"]}
        assert ready == set(planted.sites) - set(planted.blockers)

        reopen(gp_sandbox.folder, planted.period)  # UPP's period and the account, fixed in GP
        again = client.get("/api/v1/billing/readiness", params=query).json()
    still = {(site["siteNumber"], blocker["kind"]) for site in again["sites"] for blocker in site["blockers"]}
    fixed = {("8704", "inactive-gl-account"), ("8705", "closed-fiscal-period")}
    assert still == set(planted.blockers.items()) - fixed


def test_reconciliation_lists_each_planted_difference_once_in_json_and_in_csv(
    hub_host: HubHost, planted: Planted, gp_sandbox: GpSandbox
) -> None:
    with hub_host.client() as client:
        answer = client.get("/api/v1/billing/reconciliation", params={"period": planted.period})
        as_csv = client.get(
            "/api/v1/billing/reconciliation",
            params={"period": planted.period},
            headers={"Accept": "text/csv"},
        )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    listed = [(difference["documentNumber"], difference["kind"]) for difference in body["differences"]]
    assert sorted(listed) == sorted(planted.differences.items())
    quiet = {line["documentNumber"]: line["differences"] for line in body["invoices"]}
    assert all(quiet[number] == [] for number in planted.quiet_documents)

    # GP's side, read straight from the company database: the amount of each document the lines show.
    gp_amounts = dict(
        gp_sandbox.rows(
            "TOWNE",
            "SELECT DOCNUMBR, ORTRXAMT FROM RM20101 UNION ALL SELECT DOCNUMBR, ORTRXAMT FROM RM30101 "
            "UNION ALL SELECT DOCNUMBR, -DOCAMNT FROM PM20000",
        )
    )
    shown = {line["documentNumber"]: line.get("gpAmount") for line in body["invoices"] if line["gpDocuments"]}
    assert {number: float(amount) for number, amount in shown.items()} == {
        number: float(amount) for number, amount in gp_amounts.items()
    }

    assert as_csv.status_code == 200 and as_csv.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert sorted(row["document_number"] for row in rows) == sorted(
        line["documentNumber"] for line in body["invoices"]
    )
    in_csv = [
        (row["document_number"], kind) for row in rows for kind in row["differences"].split(";") if kind
    ]
    assert sorted(in_csv) == sorted(planted.differences.items())
