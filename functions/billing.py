"""Billing timers: the copy of billing into the EDW, and the month's reconciliation with GP.

The readiness and reconciliation calls themselves are API operations
(``functions/api.py``). One timer copies what changed in billing into the
EDW's ``TP_STAGE`` tables (``shared/workflows/billing/edw_reporting.py``;
nothing without ``EDW_SQL_URL``); the other runs the reconciliation after the
billing window and alerts on each difference
(``shared/workflows/billing/month_end.py``; nothing without ``GP_SQL_URL``).
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


@blueprint.timer_trigger(schedule="%BILLING_REPORTING_SCHEDULE%", arg_name="timer")
def report_billing_to_edw(timer: func.TimerRequest, context: func.Context) -> None:
    with invocation(context):
        reporting = hub().billing_reporting
        if reporting is None:
            log.info("Billing reporting skipped: the EDW is not configured (EDW_SQL_URL)")
            return
        written = reporting.run()
        log.info(
            "Billing reported to the EDW: %s",
            ", ".join(f"{count} rows to {table}" for table, count in written.items()),
        )
