"""``POST /api/v1/statements/{id}/forecast-check`` on the host: sandbox statements against the sandbox forecast.

The forecast each case is built around is read here with plain SQL from the
sandbox's ``vwFORECAST_CONSOLIDATED``; the statement's invoices are then set to
land exactly on, or a cent past, the contract's thresholds.
"""

from __future__ import annotations

import uuid
from decimal import ROUND_DOWN, Decimal

import httpx
import pytest

from localdev.sandbox_sql import SandboxSummary
from tests.billing.forecast_world import (
    ADVANCED,
    ARREARS,
    NEEDS_REVIEW,
    forecasts,
    hub_forecast,
    site_with_contract,
    statement,
    write,
)
from tests.fixtures.dataverse_sandbox import DataverseSandbox
from tests.fixtures.hub_host import HubHost

pytestmark = pytest.mark.services


def _status(web_api: httpx.Client, statement_id: str) -> int:
    return int(web_api.get(f"bs_billingstatements({statement_id})").json()["bs_statementstatus"])


def test_the_check_routes_on_both_thresholds_and_applies_only_over_an_unchanged_statement(
    hub_host: HubHost, dataverse_sandbox: DataverseSandbox, hub_sql_summary: SandboxSummary
) -> None:
    (site, period, forecast), (arrears_site, arrears_period, arrears_forecast) = forecasts(hub_sql_summary)
    # 10 % of the forecast, or $500 if that is more: the boundary that is not "above" on both counts,
    # in whole cents rounded down (10 % of $85,118.77 is $8,511.877: $8,511.88 is above it).
    edge = max(forecast * Decimal("0.10"), Decimal(500)).quantize(Decimal("0.01"), rounding=ROUND_DOWN)
    with dataverse_sandbox.client() as web_api, hub_host.client() as api:
        site_id = site_with_contract(web_api, site, ADVANCED)
        at_edge = statement(web_api, site_id, site, period, [str(forecast + edge - 100), "100"])
        answer = api.post(f"/api/v1/statements/{at_edge}/forecast-check")
        assert answer.status_code == 200, answer.text
        checked = answer.json()
        assert checked["decision"] == "READY_TO_SEND"
        assert Decimal(str(checked["forecastAmount"])) == forecast and checked["forecastSource"] == "edw"
        assert Decimal(str(checked["statementAmount"])) == forecast + edge
        assert Decimal(str(checked["deviationAmount"])) == edge
        assert (checked["thresholdPercent"], checked["thresholdAmount"]) == (10, 500)
        assert checked["applied"] is False and _status(web_api, at_edge) == NEEDS_REVIEW

        past = statement(web_api, site_id, site, period, [str(forecast + edge + Decimal("0.01"))])
        applied = api.post(f"/api/v1/statements/{past}/forecast-check", params={"apply": "true"})
        assert applied.status_code == 200, applied.text
        assert (applied.json()["decision"], applied.json()["decisionValue"]) == ("APPROVAL_TEAM", 126840005)
        assert applied.json()["previousStatus"] == "NEEDS_REVIEW"
        assert _status(web_api, past) == 126840005

        # An Account Manager edits the statement after the flow read it: the flow's ETag is stale.
        stale = api.post(f"/api/v1/statements/{at_edge}/forecast-check").headers["ETag"]
        edited = web_api.patch(f"bs_billingstatements({at_edge})", json={"bs_statementstatus": 126840002})
        assert edited.status_code == 204, edited.text
        refused = api.post(
            f"/api/v1/statements/{at_edge}/forecast-check",
            params={"apply": "true"},
            headers={"If-Match": stale},
        )
        assert refused.status_code == 412, refused.text
        assert refused.headers["content-type"] == "application/problem+json"
        assert _status(web_api, at_edge) == 126840002, "a stale ETag leaves the status as the edit set it"

        arrears_id = site_with_contract(web_api, arrears_site, ARREARS)
        arrears = statement(web_api, arrears_id, arrears_site, arrears_period, [str(arrears_forecast)])
        assert api.post(f"/api/v1/statements/{arrears}/forecast-check").json()["decision"] == "READY_TO_SEND"
        write(
            web_api,
            "cr9e8_readyforinvoices",
            {"cr9e8_site": arrears_site, "cr9e8_period": arrears_period, "cr9e8_comments": "Deposits short"},
        )
        assert api.post(f"/api/v1/statements/{arrears}/forecast-check").json()["decision"] == "AR_REVIEW"

        # Once the hub has calculated the site's forecast, the check reads the hub's, not today's view.
        calculated = api.post(
            "/api/v1/forecast/snapshots", json={"year": int(arrears_period[:4]), "sites": [arrears_site]}
        )
        assert calculated.status_code == 201, calculated.text
        from_hub = api.post(f"/api/v1/statements/{arrears}/forecast-check").json()
        assert from_hub["forecastSource"] == "hub"
        assert Decimal(str(from_hub["forecastAmount"])) == hub_forecast(
            hub_sql_summary, arrears_site, arrears_period
        )

        assert api.post(f"/api/v1/statements/{uuid.uuid4()}/forecast-check").status_code == 404
        bad = api.post(f"/api/v1/statements/{past}/forecast-check", params={"apply": "yes"})
        assert bad.status_code == 400 and "apply" in bad.text
