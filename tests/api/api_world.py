"""The API core over real Azurite containers and the Service Bus emulator, with a test live read."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel
from sqlalchemy import Engine, create_engine, literal, select

from shared.api.audit import AuditLog
from shared.api.callers import BearerTokens, EntraAudience
from shared.api.http import ApiRequest, ApiResponse
from shared.api.live_reads import LiveReads
from shared.api.rate_limit import RateLimiter
from shared.api.service import HubApi
from shared.api.syncs import SyncDesk
from shared.health import check_dependencies
from shared.pipeline.dead_letters import DeadLetters
from shared.pipeline.run_queue import RunQueue
from shared.platform.dead_letter_shelf import DeadLetterShelf
from shared.platform.service_bus import ServiceBus
from tests.pipeline.world import World

SYNC_REQUESTS = "sync-requests"


class SiteYear(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, extra="forbid", frozen=True)

    site_number: str = Field(pattern=r"^\d{4}$", title="Site", description="Four-digit site number.")
    year: int = Field(ge=2000, le=2099, title="Year", description="Calendar year.")


class SiteTotal(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, serialize_by_alias=True, validate_by_name=True)

    site_number: str
    year: int
    revenue: float
    as_of: date


@dataclass
class SiteTotals:
    """A live read the way ``shared/edw/reads.py`` declares one; counts the times it hits the database."""

    name: str = "site-totals"
    summary: str = "Site totals"
    description: str = "Revenue of one site in one year."
    params: type[BaseModel] = SiteYear
    row: type[BaseModel] = SiteTotal
    cache_seconds: int = 300
    runs: list[Any] = field(default_factory=list)

    def run(self, engine: Engine, params: Any) -> Sequence[BaseModel]:
        self.runs.append(params)
        statement = select(
            literal(params.site_number).label("site_number"),
            literal(params.year).label("year"),
            literal(1234.5).label("revenue"),
        )
        with engine.connect() as connection:
            row = connection.execute(statement).mappings().one()
        return [SiteTotal(**row, as_of=date(params.year, 12, 31))]


def build_api(
    world: World, tokens: EntraAudience | None = None, per_minute: int = 1000
) -> tuple[HubApi, SiteTotals]:
    bus = ServiceBus(world.bus)
    read = SiteTotals()
    engine = create_engine("sqlite://")
    api = HubApi(
        syncs=SyncDesk(
            world.engine.catalog,
            RunQueue(
                world.engine.catalog,
                world.engine.runs,
                world.engine.slots,
                bus,
                SYNC_REQUESTS,
                world.engine.now,
            ),
            world.state,
            {"site_days": "0 */15 * * * *"},
            world.engine.now,
        ),
        dead_letters=DeadLetters(bus, DeadLetterShelf(world.state)),
        dead_letter_queues=(SYNC_REQUESTS, "batch-loads", "gp-postings"),
        live_reads=LiveReads([read], lambda: engine),
        readiness=lambda: (check_dependencies({"blob": world.state.check}, 5.0), {}),
        audit=AuditLog(world.state.container),
        limiter=RateLimiter(per_minute),
        tokens=BearerTokens(tokens) if tokens else None,
    )
    return api, read


def call(
    api: HubApi,
    operation: str,
    path: str,
    *,
    method: str = "GET",
    route: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
    body: bytes = b"",
    headers: dict[str, str] | None = None,
) -> ApiResponse:
    key = {"x-functions-key": "test-function-key"} if headers is None else {}
    request = ApiRequest(method, path, {**key, **(headers or {})}, query or {}, route or {}, body)
    return api.handle(operation, request)
