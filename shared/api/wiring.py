"""Builds the API from the hub's clients, once per worker process, for ``functions/api.py`` and the tests."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine

from shared.api.audit import AuditLog
from shared.api.callers import BearerTokens, EntraAudience
from shared.api.calls import ApiServices
from shared.api.live_reads import LiveRead, LiveReads
from shared.api.openapi import openapi_document
from shared.api.payroll_coverage_desk import PayrollCoverageDesk
from shared.api.rate_limit import RateLimiter
from shared.api.service import HubApi
from shared.api.syncs import SyncDesk
from shared.composition import Hub, hub
from shared.connectors.salesforce.site_mapping import SiteMappings
from shared.connectors.syncs import SYNCS
from shared.forecast.desk import ForecastDesk
from shared.health import HealthReport, check_dependencies
from shared.live_reads.reads import LIVE_READS
from shared.pipeline.dead_letters import DeadLetters
from shared.platform.dead_letter_shelf import DeadLetterShelf
from shared.workflows.forecast_check.check import StatementForecastCheck

HEALTH_DEADLINE_SECONDS = 5.0  # readiness answers within this, whatever hangs


@dataclass(frozen=True)
class ApiSettings:
    """The API's own settings (app settings ``API_*``), and the schedule each stream shows: its sync's."""

    rate_limit_per_minute: int = 300
    max_body_bytes: int = 1_048_576
    entra: EntraAudience | None = None
    schedules: Mapping[str, str] | None = None


def build_api(
    hub: Hub,
    settings: ApiSettings,
    reads: Sequence[LiveRead] = (),
    edw_engine: Callable[[], Engine] | None = None,
) -> HubApi:
    """The API over the hub's clients; GP operations answer 503 unless GP posting is configured."""

    def readiness() -> tuple[HealthReport, dict[str, str]]:
        return check_dependencies(hub.health_checks(), HEALTH_DEADLINE_SECONDS), hub.hosts.breaker_states()

    def no_edw() -> Engine:
        raise LookupError("the EDW connection is not configured")

    platform = hub.for_api  # short time-outs: a caller hears 503 within seconds when a dependency is down
    queues = (
        hub.settings.sync_requests_queue,
        hub.settings.batch_loads_queue,
        hub.settings.gp_postings_queue,
        hub.settings.dataverse_events_queue,
    )
    services = ApiServices(
        syncs=SyncDesk(
            hub.engine.catalog,
            hub.run_queue_for_api,
            platform.runs,
            platform.stream_states,
            settings.schedules or {},
            hub.engine.now,
        ),
        dead_letters=DeadLetters(platform.service_bus, DeadLetterShelf(platform.state)),
        dead_letter_queues=queues,
        live_reads=LiveReads(reads, edw_engine or no_edw),
        readiness=readiness,
        description=functools.partial(openapi_document, reads, entra=settings.entra, queues=queues),
        gp=hub.gp_postings_for_api if hub.gp_configured else None,
        budget_revisions=platform.budget_revisions,
        forecast_check=StatementForecastCheck(hub.dataverse, hub.edw) if hub.edw is not None else None,
        forecast=ForecastDesk(hub.dataverse, edw_engine or no_edw, hub.engine.now),
        payroll_coverage=PayrollCoverageDesk(platform.runs, platform.staging),
        billing=hub.billing_checks,
        leads=hub.lead_captures_for_api if hub.salesforce is not None else None,
        pipeline=hub.pipeline_reporting,
        site_mappings=SiteMappings(hub.dataverse) if hub.salesforce is not None else None,
    )
    return HubApi(
        services,
        audit=AuditLog(platform.state.container),
        limiter=RateLimiter(settings.rate_limit_per_minute),
        tokens=BearerTokens(settings.entra) if settings.entra else None,
        max_body_bytes=settings.max_body_bytes,
    )


def api_settings(hub: Hub) -> ApiSettings:
    """The API settings from the hub's typed settings (``API_ENTRA_*``, ``API_RATE_LIMIT_PER_MINUTE``,
    ``API_MAX_BODY_BYTES``).

    Each stream shows the schedule of the sync that runs it, as its setting says.
    """
    values = hub.settings
    client_id, tenant_id = values.api_entra_client_id, values.api_entra_tenant_id
    authority = values.api_entra_authority_host or values.entra_authority_host
    entra = None
    if client_id and tenant_id:
        ca_bundle: Path | None = values.local_ca_bundle
        entra = EntraAudience(str(client_id), str(tenant_id), str(authority).rstrip("/"), ca_bundle)
    schedules = {stream: values.schedule(sync) for sync in SYNCS for stream in sync.streams}
    return ApiSettings(
        rate_limit_per_minute=values.api_rate_limit_per_minute,
        max_body_bytes=values.api_max_body_bytes,
        entra=entra,
        schedules=schedules,
    )


@functools.cache
def hub_api() -> HubApi:
    built = hub()

    def edw() -> Engine:
        if built.edw is None:
            raise LookupError("the EDW connection is not configured (EDW_SQL_URL)")
        return built.edw

    return build_api(built, api_settings(built), reads=LIVE_READS, edw_engine=edw)
