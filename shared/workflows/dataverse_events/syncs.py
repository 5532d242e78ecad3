"""Which scheduled syncs a change to a customer site or a contract queues at once, instead of at their next timer.

The syncs read Towne Park's SQL Server, not these rows; what they write is
keyed by the site, so a site or contract added or changed in Dataverse wants
the rows that hang off it refreshed now: users' access to sites, job codes
by site (and their wage rates), and billable-expense budgets. This is the
hub's choice, not a rule DOMAIN.md states; a sync not listed keeps its timer.
"""

from __future__ import annotations

from collections.abc import Mapping

from shared.connectors.syncs import SYNCS, ScheduledSync

CUSTOMER_SITE = "bs_customersite"
CONTRACT = "bs_contract"

# The logical name of a changed row → its entity set (to read it back) and the syncs (``shared.connectors.syncs.SYNCS``) it queues, in order.
ENTITY_SETS: Mapping[str, str] = {CUSTOMER_SITE: "bs_customersites", CONTRACT: "bs_contracts"}
DEPENDENT_SYNCS: Mapping[str, tuple[str, ...]] = {
    CUSTOMER_SITE: ("user_roles_and_sites", "job_codes", "wage_rates", "billable_expense_budgets"),
    CONTRACT: ("billable_expense_budgets",),
}


def dependent_syncs(entity: str) -> list[ScheduledSync]:
    wanted = DEPENDENT_SYNCS.get(entity, ())
    return [sync for name in wanted for sync in SYNCS if sync.name == name]
