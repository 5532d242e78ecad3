"""The billing checks the API and the reconciliation timer ask for, built once over Dataverse and GP."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sqlalchemy import Engine

from shared.connectors.dataverse.client import DataverseClient
from shared.connectors.great_plains.chart import FiscalPeriods
from shared.connectors.great_plains.ledger import GpLedger
from shared.workflows.billing.gp_books import GpBooks
from shared.workflows.billing.powerbill import PowerBillReader
from shared.workflows.billing.readiness import BillingReadiness, SiteReadiness
from shared.workflows.billing.reconciliation import BillingReconciliation, Reconciliation


class BillingChecks:
    """Readiness before the month's run, reconciliation after it."""

    def __init__(
        self, dataverse: DataverseClient, company_engine: Callable[[str], Engine], companies: Sequence[str]
    ) -> None:
        powerbill = PowerBillReader(dataverse)
        books = GpBooks(company_engine, companies)
        # No cache: readiness must see a customer added or a period reopened in GP a minute ago.
        periods = FiscalPeriods(company_engine, ttl_seconds=0)
        self._readiness = BillingReadiness(powerbill, books, GpLedger(company_engine).chart, periods)
        self._reconciliation = BillingReconciliation(powerbill, books)

    def readiness(self, period: str, sites: Sequence[str] = ()) -> list[SiteReadiness]:
        return self._readiness.check(period, sites)

    def reconciliation(self, period: str) -> Reconciliation:
        return self._reconciliation.run(period)
