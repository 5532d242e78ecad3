"""What a handler is given: the call that passed the request pipeline, and the hub's services it answers from.

Every operation in ``operations.py`` names its handler, a function of these
two; ``service.HubApi`` runs the pipeline (correlation, caller, rate limit,
validation, audit) and then that handler. The services are built once per
worker by ``wiring.build_api``, so a handler never builds a client.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from shared.api.http import ApiRequest, ApiResponse

if TYPE_CHECKING:  # types only: importing the services here would load every SDK when the app is indexed
    from shared.api.live_reads import LiveReads
    from shared.api.payroll_coverage_desk import PayrollCoverageDesk
    from shared.api.roles import Caller
    from shared.api.syncs import SyncDesk
    from shared.connectors.salesforce.site_mapping import SiteMappings
    from shared.forecast.desk import ForecastDesk
    from shared.health import HealthReport
    from shared.pipeline.dead_letters import DeadLetters
    from shared.workflows.billing.desk import BillingChecks
    from shared.workflows.budget_revisions.revision_table import RevisionTable
    from shared.workflows.forecast_check.check import StatementForecastCheck
    from shared.workflows.gp_posting.workflow import GpPostings
    from shared.workflows.lead_capture.captures import LeadCaptures
    from shared.workflows.pipeline_reporting.report import PipelineReporting


@dataclass(frozen=True)
class Call:
    """A request that passed identification and validation, ready for its handler."""

    request: ApiRequest
    caller: Caller
    path: Any
    query: Any
    body: Any


@dataclass(frozen=True)
class ApiServices:
    """The desks and clients the handlers answer from."""

    syncs: SyncDesk
    dead_letters: DeadLetters
    dead_letter_queues: tuple[str, ...]
    live_reads: LiveReads
    readiness: Callable[[], tuple[HealthReport, dict[str, str]]]
    # The OpenAPI document for a host name (None: without ``host``) and scheme. Given, not imported: the
    # document is built from the operations table, which names the handlers.
    description: Callable[[str | None, str], dict[str, Any]]
    gp: GpPostings | None = None
    budget_revisions: RevisionTable | None = None
    forecast_check: StatementForecastCheck | None = None
    forecast: ForecastDesk | None = None
    payroll_coverage: PayrollCoverageDesk | None = None
    billing: BillingChecks | None = None
    leads: LeadCaptures | None = None
    pipeline: PipelineReporting | None = None
    site_mappings: SiteMappings | None = None


Handler = Callable[[ApiServices, Call], ApiResponse]
