"""Billing triggers: the month's reconciliation with GP, after the billing window.

The readiness and reconciliation calls themselves are API operations
(``functions/api.py``); this timer runs the reconciliation on its own and
alerts on each difference (``shared/workflows/billing/month_end.py``). Without
GP (``GP_SQL_URL``) it does nothing.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import azure.functions as func

from functions.app_hub import hub
from functions.invocation import invocation

log = logging.getLogger(__name__)
blueprint = func.Blueprint()


@blueprint.timer_trigger(schedule="%BILLING_RECONCILIATION_SCHEDULE%", arg_name="timer")
def reconcile_billing_month(timer: func.TimerRequest, context: func.Context) -> None:
    with invocation(context):
        checks = hub().billing_checks
        if checks is None:
            log.info("Billing reconciliation skipped: GP is not configured (GP_SQL_URL)")
            return
        # Imported here: it loads OpenTelemetry and SQL, which indexing the app must not (tests/telemetry).
        from shared.workflows.billing.month_end import reconcile_last_month

        reconcile_last_month(checks, datetime.now(UTC).date())
