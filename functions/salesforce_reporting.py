"""The weighted Salesforce pipeline's timer: the synced Opportunities summed into the EDW's TP_STAGE.

It runs after the hourly Salesforce sync (``salesforce_pipeline``) and writes
only the stage, region and opening-month groups that changed
(``shared/workflows/pipeline_reporting``; nothing without ``EDW_SQL_URL``).
"""

from __future__ import annotations

import logging

import azure.functions as func

from functions.app_hub import hub
from functions.invocation import invocation

log = logging.getLogger(__name__)
blueprint = func.Blueprint()


@blueprint.timer_trigger(schedule="%SALESFORCE_PIPELINE_REPORTING_SCHEDULE%", arg_name="timer")
def report_salesforce_pipeline(timer: func.TimerRequest, context: func.Context) -> None:
    with invocation(context):
        reporting = hub().pipeline_reporting
        if reporting is None:
            log.info("Pipeline reporting skipped: the EDW is not configured (EDW_SQL_URL)")
            return
        written = reporting.run()
        log.info(
            "Salesforce pipeline reported to the EDW: %d groups added, %d changed, %d removed",
            written.added,
            written.changed,
            written.removed,
        )
