"""After the billing window: last month reconciled with GP, each difference counted and raised for an operator.

The timer (``BILLING_RECONCILIATION_SCHEDULE``, the 6th at 12:00 UTC: billing
runs in the month's first ~5 days, DOMAIN.md §7) asks for the month before
today's. Each difference is one ``hub.billing.differences`` point (the
``hub-billing-differences`` alert in ``infra/app/alerts.bicep`` reads it) and
one ERROR log line marked ``alert``, naming the document and site but no
amount (amounts stay in the reconciliation the alert points to).
"""

from __future__ import annotations

import logging
from collections import Counter
from datetime import date, timedelta

from shared.telemetry import names
from shared.telemetry.meters import record
from shared.workflows.billing.desk import BillingChecks
from shared.workflows.billing.reconciliation import Reconciliation

log = logging.getLogger(__name__)


def last_month(today: date) -> str:
    """The billing month a run in ``today``'s month closed: the month before, as ``yyyy-MM``."""
    return f"{today.replace(day=1) - timedelta(days=1):%Y-%m}"


def reconcile_last_month(checks: BillingChecks, today: date) -> Reconciliation:
    period = last_month(today)
    found = checks.reconciliation(period)
    for line, difference in found.differences:
        record(
            names.BILLING_DIFFERENCES,
            1,
            {names.BILLING_DIFFERENCE: difference.value, names.BILLING_PERIOD: period},
        )
        log.error(
            "Billing reconciliation %s: %s for GP document %s (site %s); see "
            "GET /api/v1/billing/reconciliation?period=%s",
            period,
            difference.value,
            line.document_number,
            line.site_number or "unknown",
            period,
            extra={"alert": True, names.BILLING_DIFFERENCE: difference.value, names.BILLING_PERIOD: period},
        )
    kinds = Counter(difference.value for _, difference in found.differences)
    log.info(
        "Billing reconciliation %s: %d lines, %s",
        period,
        len(found.lines),
        ", ".join(f"{count} {kind}" for kind, count in sorted(kinds.items())) or "no differences",
    )
    return found
