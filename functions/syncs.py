"""The scheduled syncs that replace Towne Park's dataflows: one timer per sync, schedule from an app setting.

Each timer queues its sync's streams (``shared.connectors.catalog.SYNCS``) on
the sync-requests queue, the same way the API does: the first free stream now,
each later one once the one before it is staged. A stream still queued or
running from an earlier occurrence (a slow wage-rate run) is skipped with a
warning: runs never overlap. The run itself, its retries and its failures are
the sync-requests trigger's (``functions/pipeline.py``).
"""

from __future__ import annotations

import logging

import azure.functions as func

from shared.composition import hub
from shared.connectors.catalog import SYNCS

log = logging.getLogger(__name__)
blueprint = func.Blueprint()


def run_scheduled_sync(sync: str, timer: func.TimerRequest) -> None:
    """Queue the sync's streams, in order, on the sync-requests queue; a stream still busy is skipped."""
    if timer.past_due:
        log.warning("Scheduled sync %s is running late (past due)", sync)
    queued, busy = hub().run_queue.queue_in_order(SYNCS[sync], "timer")
    for running in busy:
        log.warning("Scheduled sync %s skipped stream %s: %s", sync, running.stream, running)
    if queued is not None:
        log.info("Scheduled sync %s queued run %s of %s", sync, queued.id, queued.stream)


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
