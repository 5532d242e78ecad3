"""The scheduled syncs that replace Towne Park's dataflows: one timer per sync, schedule from an app setting.

Each timer runs its sync's streams in order (``shared.connectors.catalog.SYNCS``)
on the engine; loading continues on the load queue. A stream still running
from an earlier occurrence (a slow wage-rate run) keeps its lease and this
occurrence skips it with a warning: runs never overlap. A failed run is
logged with its class and then raised, so the invocation shows as failed in
Application Insights; the next occurrence starts again from the last checkpoint.
"""

from __future__ import annotations

import logging

import azure.functions as func

from shared.composition import hub
from shared.connectors.catalog import SYNCS
from shared.pipeline.sync import AlreadyRunningError, SyncRequest

log = logging.getLogger(__name__)
blueprint = func.Blueprint()


class ScheduledSyncFailedError(Exception):
    """A scheduled sync's run failed; its run record holds the classified reason."""


def run_scheduled_sync(sync: str, timer: func.TimerRequest) -> None:
    """Run every stream of ``sync`` once, in order; raise after all were tried if any failed."""
    if timer.past_due:
        log.warning("Scheduled sync %s is running late (past due)", sync)
    failures = []
    for stream in SYNCS[sync]:
        try:
            record = hub().engine.run(SyncRequest(stream, trigger="timer"))
        except AlreadyRunningError as running:
            log.warning("Scheduled sync %s skipped stream %s: %s", sync, stream, running)
            continue
        if record.error is not None:
            log.error(
                "Run %s of %s failed (%s): %s",
                record.id,
                stream,
                record.error.error_class,
                record.error.message,
            )
            failures.append(f"{record.id} ({record.error.error_class})")
            continue
        log.info("Run %s of %s staged %s", record.id, stream, record.extract)
    if failures:
        raise ScheduledSyncFailedError(f"scheduled sync {sync}: runs failed: {', '.join(failures)}")


@blueprint.timer_trigger(schedule="%MASTER_CUSTOMER_SITES_SCHEDULE%", arg_name="timer")
def master_customer_sites(timer: func.TimerRequest) -> None:
    run_scheduled_sync("master_customer_sites", timer)


@blueprint.timer_trigger(schedule="%USER_ROLES_AND_SITES_SCHEDULE%", arg_name="timer")
def user_roles_and_sites(timer: func.TimerRequest) -> None:
    run_scheduled_sync("user_roles_and_sites", timer)


@blueprint.timer_trigger(schedule="%JOB_CODES_SCHEDULE%", arg_name="timer")
def job_codes(timer: func.TimerRequest) -> None:
    run_scheduled_sync("job_codes", timer)


@blueprint.timer_trigger(schedule="%WAGE_RATES_SCHEDULE%", arg_name="timer")
def wage_rates(timer: func.TimerRequest) -> None:
    run_scheduled_sync("wage_rates", timer)


@blueprint.timer_trigger(schedule="%BILLABLE_EXPENSE_BUDGETS_SCHEDULE%", arg_name="timer")
def billable_expense_budgets(timer: func.TimerRequest) -> None:
    run_scheduled_sync("billable_expense_budgets", timer)


@blueprint.timer_trigger(schedule="%GP_PAYMENT_STATUS_SCHEDULE%", arg_name="timer")
def gp_invoice_payment_status(timer: func.TimerRequest) -> None:
    if hub().gp_databases is None:
        log.info("GP payment status skipped: the GP company databases are not configured (GP_SQL_URL)")
        return
    run_scheduled_sync("gp_invoice_payment_status", timer)
