"""Sandbox statements for the forecast check: a site with its contract, a statement and its invoices."""

from __future__ import annotations

import sqlite3
import uuid
from contextlib import closing
from decimal import Decimal
from typing import Any

import httpx

from localdev.sandbox_sql import SandboxSummary

ARREARS, ADVANCED = 126840001, 126840000
NEEDS_REVIEW = 126840001


def forecasts(summary: SandboxSummary) -> list[tuple[str, str, Decimal]]:
    """Two sites' first months with internal revenue in today's forecast view, and their FD_BALANCE.

    Only sites the hub has calculated no forecast for (another test may have), so the check reads this view.
    """
    with closing(sqlite3.connect(summary.folder / "TP_EDW.sqlite")) as connection:
        connection.execute("ATTACH DATABASE ? AS TP_STAGE", (str(summary.folder / "TP_STAGE.sqlite"),))
        rows = connection.execute(
            "SELECT COST_CENTER, MIN(PERIOD) FROM vwFORECAST_CONSOLIDATED "
            "WHERE IS_SUMMARY_CATEGORY = 'INTERNAL REVENUE' AND COST_CENTER NOT IN "
            "(SELECT COST_CENTER FROM TP_STAGE.HUB_FORECAST_SNAPSHOT_LINE) "
            "GROUP BY COST_CENTER ORDER BY COST_CENTER LIMIT 2"
        ).fetchall()
        found = []
        for site, period in rows:
            (balance,) = connection.execute(
                "SELECT SUM(FD_BALANCE) FROM vwFORECAST_CONSOLIDATED WHERE COST_CENTER = ? AND PERIOD = ? "
                "AND IS_SUMMARY_CATEGORY = 'INTERNAL REVENUE'",
                (site, period),
            ).fetchone()
            found.append((site, period, Decimal(str(balance)).quantize(Decimal("0.01"))))
    return found


def hub_forecast(summary: SandboxSummary, site: str, period: str) -> Decimal:
    """The month's internal revenue in the hub's own forecast view (TP_STAGE), as plain SQL reads it."""
    with closing(sqlite3.connect(summary.folder / "TP_STAGE.sqlite")) as connection:
        (balance,) = connection.execute(
            "SELECT SUM(FD_BALANCE) FROM vwHUB_FORECAST_CONSOLIDATED WHERE COST_CENTER = ? AND PERIOD = ? "
            "AND IS_SUMMARY_CATEGORY = 'INTERNAL REVENUE'",
            (site, period),
        ).fetchone()
    return Decimal(str(balance)).quantize(Decimal("0.01"))


def write(web_api: httpx.Client, entity_set: str, row: dict[str, Any]) -> None:
    answer = web_api.post(entity_set, json=row)
    assert answer.status_code in (201, 204), answer.text


def site_with_contract(web_api: httpx.Client, site: str, billing_type: int) -> str:
    """The site and its contract of 10 % and $500; the site's id."""
    site_id = str(uuid.uuid4())
    write(web_api, "bs_customersites", {"bs_customersiteid": site_id, "bs_sitenumber": site})
    write(
        web_api,
        "bs_contracts",
        {
            "bs_contractid": str(uuid.uuid4()),
            "bs_customersitefk@odata.bind": f"/bs_customersites({site_id})",
            "bs_billingtype": billing_type,
            "bs_deviationpercentage": 10,
            "bs_deviationamount": 500,
        },
    )
    return site_id


def statement(web_api: httpx.Client, site_id: str, site: str, period: str, amounts: list[str]) -> str:
    """A statement of ``amounts`` (one invoice each) for the site and month, needing review."""
    statement_id = str(uuid.uuid4())
    write(
        web_api,
        "bs_billingstatements",
        {
            "bs_billingstatementid": statement_id,
            "bs_customersitefk@odata.bind": f"/bs_customersites({site_id})",
            "bs_serviceperiodstart": f"{period[:4]}-{period[4:]}-01",
            "bs_statementstatus": NEEDS_REVIEW,
        },
    )
    for amount in amounts:
        write(
            web_api,
            "bs_invoices",
            {
                "bs_invoiceid": str(uuid.uuid4()),
                "bs_invoicenumber": f"{site}-{period}-{uuid.uuid4().hex[:6]}",
                "bs_amount": float(amount),
                "bs_billingstatementfk@odata.bind": f"/bs_billingstatements({statement_id})",
            },
        )
    return statement_id
