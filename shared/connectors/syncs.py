"""Every scheduled sync, declared once: its streams in order, its timer's app setting and that setting's default.

The timers (``functions/syncs.py``), ``GET /api/v1/syncs``, the settings
(``shared/settings.py`` types each schedule), ``local.settings.json.example``
and the Bicep app settings all read or are checked against this table
(``tests/connectors/test_sync_declarations.py``). Adding a connector is adding
its folder, its streams in ``catalog.py`` and one entry here.

Defaults are 6-field NCRONTAB in UTC, from DOMAIN.md §1, §2, §4: master sites
daily at 03:00 as today; user roles nightly after Workday's overnight export;
job codes and budgets daily after it; GL actuals daily at 09:00, so a
month closed (or re-closed) overnight is in Dataverse that morning; wage
rates every 4 hours from 00:00; GP payment status hourly (no flow does it
today); payroll actuals at 04:00, after the payroll view's 2 AM refresh, and
the RSS statistics and rates after them.

``CHANGE_SYNCS`` are the short timers of the change-tracked streams: each
reads only what changed in its table since the last run (README, "Change
tracking on the SQL Server side"), and does nothing while the table's change
tracking setting is off. Their streams also run on their daily sync above.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Source(StrEnum):
    """Where a sync reads, named by the app setting without which the hub has none of its streams."""

    EDW = "EDW_SQL_URL"
    GP = "GP_SQL_URL"


@dataclass(frozen=True)
class ScheduledSync:
    """One timer's work: ``streams`` run in this order (users before their site access, codes before use)."""

    name: str
    streams: tuple[str, ...]
    schedule_setting: str
    default_schedule: str
    source: Source = Source.EDW
    tracked_table: str | None = (
        None  # a change sync's table, whose CHANGE_TRACKING_<table> setting turns it on
    )


SYNCS: tuple[ScheduledSync, ...] = (
    ScheduledSync(
        "master_customer_sites", ("master_customer_sites",), "MASTER_CUSTOMER_SITES_SCHEDULE", "0 0 3 * * *"
    ),
    ScheduledSync(
        "user_roles_and_sites", ("user_roles", "user_sites"), "USER_ROLES_AND_SITES_SCHEDULE", "0 0 7 * * *"
    ),
    ScheduledSync("job_codes", ("job_codes", "job_codes_by_site"), "JOB_CODES_SCHEDULE", "0 30 7 * * *"),
    ScheduledSync("wage_rates", ("wage_rates",), "WAGE_RATES_SCHEDULE", "0 0 */4 * * *"),
    ScheduledSync(
        "billable_expense_budgets",
        ("billable_expense_budgets",),
        "BILLABLE_EXPENSE_BUDGETS_SCHEDULE",
        "0 0 8 * * *",
    ),
    ScheduledSync("gl_actuals", ("gl_actuals", "gl_account_actuals"), "GL_ACTUALS_SCHEDULE", "0 0 9 * * *"),
    ScheduledSync(
        "payroll_actuals", ("scheduled_hours", "worked_hours"), "PAYROLL_ACTUALS_SCHEDULE", "0 0 4 * * *"
    ),
    ScheduledSync(
        "statistics_actuals",
        ("daily_statistics_actuals", "parking_rates"),
        "STATISTICS_ACTUALS_SCHEDULE",
        "0 30 4 * * *",
    ),
    ScheduledSync(
        "gp_invoice_payment_status",
        ("gp_invoice_payment_status",),
        "GP_PAYMENT_STATUS_SCHEDULE",
        "0 20 * * * *",
        Source.GP,
    ),
)

# Every few minutes: a changed schedule, role or site reaches Dataverse within minutes, and a quiet
# read is one query.
CHANGE_SYNCS: tuple[ScheduledSync, ...] = (
    ScheduledSync(
        "shift_changes",
        ("job_codes_by_site", "scheduled_hours"),
        "SHIFT_CHANGES_SCHEDULE",
        "0 */5 * * * *",
        tracked_table="SHIFT_ENTITY",
    ),
    ScheduledSync(
        "user_access_changes",
        ("user_roles", "user_sites"),
        "USER_ACCESS_CHANGES_SCHEDULE",
        "0 */2 * * * *",
        tracked_table="WORKDAY_RLS_BISECURITY",
    ),
    ScheduledSync(
        "master_site_changes",
        ("master_customer_sites",),
        "MASTER_SITE_CHANGES_SCHEDULE",
        "0 */5 * * * *",
        tracked_table="MASTER_NON_FINANCIAL",
    ),
)
TIMED_SYNCS = SYNCS + CHANGE_SYNCS
