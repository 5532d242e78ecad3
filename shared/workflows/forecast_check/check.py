"""A statement against the forecast: gather both figures and the contract's thresholds, route, optionally apply.

Replaces the statement-generation flow's forecast-check child flow (DOMAIN.md
§7). The statement's amount is the sum of its ``bs_invoice`` amounts; the
forecast is the internal revenue ``vwFORECAST_CONSOLIDATED`` holds for the
site and the statement's service month (``FD_BALANCE``, positive as revenue);
the thresholds are the site's contract's ``bs_deviationpercentage`` and
``bs_deviationamount``; an arrears contract (``bs_billingtype`` Arrears) whose
``cr9e8_readyforinvoice`` row for the month has ``cr9e8_comments`` goes to AR.

Applying the decision is a conditional update of ``bs_statementstatus``: with
the ETag the caller read (``If-Match``) or, without one, the ETag of the
statement as this check read it, so an Account Manager's edit in between is
never overwritten (412 instead). The comparison runs on what was read, and a
write is only made when asked (``apply``).

Unconfirmed, and named only here: the thresholds' columns on ``bs_contract``,
and how ``cr9e8_readyforinvoice`` spells a site and period (``cr9e8_site`` the
four-digit site, ``cr9e8_period`` 'yyyyMM').
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Column, Engine, MetaData, Table, func, select

from shared.connectors.dataverse.client import DataverseClient
from shared.forecast.snapshots import STAGE
from shared.sites import site_number, spellings
from shared.sql.tables import vw_forecast_consolidated
from shared.workflows.forecast_check.routing import (
    Deviation,
    Routing,
    StatementStatus,
    Thresholds,
    deviation,
    route,
)

STATEMENTS = "bs_billingstatements"
STATEMENT_ID = "bs_billingstatementid"
STATEMENT_SITE = "_bs_customersitefk_value"
STATEMENT_STATUS = "bs_statementstatus"
SERVICE_PERIOD = "bs_serviceperiodstart"
SITES = "bs_customersites"
SITE_ID = "bs_customersiteid"
CONTRACTS = "bs_contracts"
CONTRACT_SITE = "_bs_customersitefk_value"
BILLING_TYPE = "bs_billingtype"
ARREARS = 126840001
DEVIATION_PERCENT = "bs_deviationpercentage"  # unconfirmed column name
DEVIATION_AMOUNT = "bs_deviationamount"  # unconfirmed column name
INVOICES = "bs_invoices"
INVOICE_STATEMENT = "_bs_billingstatementfk_value"
READY_FOR_INVOICE = "cr9e8_readyforinvoices"
RSS_SITE = "cr9e8_site"  # unconfirmed spelling: the four-digit site
RSS_PERIOD = "cr9e8_period"  # unconfirmed spelling: 'yyyyMM'
RSS_COMMENTS = "cr9e8_comments"
INTERNAL_REVENUE = "INTERNAL REVENUE"
# The hub's forecast in vwFORECAST_CONSOLIDATED's columns (infra/sql/tp_stage_forecast_snapshots.sql).
hub_forecast = Table(
    "vwHUB_FORECAST_CONSOLIDATED",
    MetaData(),
    *(Column(column.name, column.type) for column in vw_forecast_consolidated.columns),
    schema=STAGE,
)
FORECAST_VIEWS = {"hub": hub_forecast, "edw": vw_forecast_consolidated}


class ForecastCheckError(Exception):
    """The check cannot be made as the data stands; ``status`` is the HTTP answer that says so."""

    def __init__(self, status: int, kind: str, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.kind = kind
        self.detail = detail


@dataclass(frozen=True)
class ForecastCheck:
    statement_id: str
    site: str
    period: str  # yyyyMM, the statement's service month
    statement_amount: Decimal
    forecast_amount: Decimal
    forecast_source: str  # "hub" (the hub's snapshot) or "edw" (today's vwFORECAST_CONSOLIDATED)
    thresholds: Thresholds
    off_by: Deviation
    routing: Routing
    etag: str  # the statement's ETag as read, or after the update when applied
    applied: bool
    previous_status: StatementStatus | None


class StatementForecastCheck:
    """Reads one statement and its forecast, and routes it as the child flow does."""

    def __init__(self, dataverse: DataverseClient, edw: Engine) -> None:
        self._dataverse = dataverse
        self._edw = edw

    def check(self, statement_id: uuid.UUID, *, apply: bool, if_match: str | None) -> ForecastCheck:
        statement = self._one(
            STATEMENTS,
            f"{STATEMENT_ID} eq {statement_id}",
            (STATEMENT_SITE, SERVICE_PERIOD, STATEMENT_STATUS),
        )
        if statement is None:
            raise ForecastCheckError(
                404, "statement-not-found", f"There is no bs_billingstatement '{statement_id}'."
            )
        period = _period(statement.get(SERVICE_PERIOD), statement_id)
        site_id = str(statement.get(STATEMENT_SITE) or "")
        site = self._site(site_id, statement_id)
        contract = self._contract(site_id, site)
        thresholds = _thresholds(contract, site)
        statement_amount = self._statement_amount(statement_id)
        forecast_source, forecast = self._forecast(site, period)
        off_by = deviation(statement_amount, forecast)
        comments = contract.get(BILLING_TYPE) == ARREARS and self._rss_has_comments(site, period)
        routing = route(off_by, thresholds, arrears_comments=comments)
        etag = str(statement.get("@odata.etag") or "")
        if apply:
            self._dataverse.upsert(
                STATEMENTS,
                {STATEMENT_ID: statement_id},
                {STATEMENT_STATUS: routing.status.value},
                if_match=if_match or etag,
            )
            after = self._one(STATEMENTS, f"{STATEMENT_ID} eq {statement_id}", (STATEMENT_STATUS,))
            etag = str((after or {}).get("@odata.etag") or etag)
        return ForecastCheck(
            str(statement_id),
            site,
            period,
            statement_amount,
            forecast,
            forecast_source,
            thresholds,
            off_by,
            routing,
            etag,
            apply,
            _status(statement.get(STATEMENT_STATUS)),
        )

    def _one(self, entity_set: str, where: str, columns: Sequence[str]) -> dict[str, Any] | None:
        primary = entity_set.removesuffix("s") + "id"
        return next(iter(self._dataverse.query(entity_set, (primary, *columns), where)), None)

    def _site(self, site_id: str, statement_id: uuid.UUID) -> str:
        if not _is_guid(site_id):
            raise ForecastCheckError(
                422, "statement-without-site", f"Statement {statement_id} has no customer site."
            )
        row = self._one(SITES, f"{SITE_ID} eq {site_id}", ("bs_sitenumber",))
        number = site_number(str((row or {}).get("bs_sitenumber") or ""))
        if number is None:
            raise ForecastCheckError(
                422, "statement-without-site", f"Statement {statement_id}'s customer site has no site number."
            )
        return number

    def _contract(self, site_id: str, site: str) -> dict[str, Any]:
        rows = list(
            self._dataverse.query(
                CONTRACTS,
                ("bs_contractid", BILLING_TYPE, DEVIATION_PERCENT, DEVIATION_AMOUNT),
                f"{CONTRACT_SITE} eq {site_id}",
            )
        )
        if not rows:
            raise ForecastCheckError(422, "site-without-contract", f"Site {site} has no bs_contract.")
        return rows[0]

    def _statement_amount(self, statement_id: uuid.UUID) -> Decimal:
        rows = self._dataverse.query(
            INVOICES, ("bs_invoiceid", "bs_amount"), f"{INVOICE_STATEMENT} eq {statement_id}"
        )
        return sum((_money(row.get("bs_amount")) for row in rows), Decimal(0))

    def _forecast(self, site: str, period: str) -> tuple[str, Decimal]:
        """The hub's forecast of the month's internal revenue, else today's view's; which one answered."""
        with self._edw.connect() as connection:
            for source, view in FORECAST_VIEWS.items():
                statement = select(func.sum(view.c.FD_BALANCE), func.count()).where(
                    view.c.COST_CENTER.in_(sorted(spellings([site]))),
                    view.c.PERIOD == period,
                    view.c.IS_SUMMARY_CATEGORY == INTERNAL_REVENUE,
                )
                total, rows = connection.execute(statement).one()
                if rows:
                    return source, _money(total)
        raise ForecastCheckError(
            422,
            "no-forecast",
            f"Neither the hub's forecast nor vwFORECAST_CONSOLIDATED has site {site}, {period}.",
        )

    def _rss_has_comments(self, site: str, period: str) -> bool:
        rows = self._dataverse.query(
            READY_FOR_INVOICE,
            ("cr9e8_readyforinvoiceid", RSS_COMMENTS),
            f"{RSS_SITE} eq '{site}' and {RSS_PERIOD} eq '{period}'",
        )
        return any(str(row.get(RSS_COMMENTS) or "").strip() for row in rows)


def _thresholds(contract: dict[str, Any], site: str) -> Thresholds:
    percent, amount = contract.get(DEVIATION_PERCENT), contract.get(DEVIATION_AMOUNT)
    if percent is None or amount is None:
        raise ForecastCheckError(
            422,
            "contract-without-thresholds",
            f"Site {site}'s contract has no {DEVIATION_PERCENT} or {DEVIATION_AMOUNT}: the check needs both.",
        )
    return Thresholds(_money(percent), _money(amount))


def _period(value: Any, statement_id: uuid.UUID) -> str:
    try:
        return date.fromisoformat(str(value)[:10]).strftime("%Y%m")
    except ValueError:
        raise ForecastCheckError(
            422, "statement-without-period", f"Statement {statement_id} has no {SERVICE_PERIOD} date."
        ) from None


def _money(value: Any) -> Decimal:
    """A Dataverse decimal or currency value (JSON number) or a SQL sum, exactly; None is 0."""
    return Decimal(str(value if value is not None else 0))


def _status(value: Any) -> StatementStatus | None:
    try:
        return StatementStatus(value)
    except ValueError:
        return None


def _is_guid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True
