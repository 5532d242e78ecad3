"""The API as the app wires it, over real Azurite containers and the Service Bus emulator, with a test live read."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel
from sqlalchemy import Engine, create_engine, literal, select

from shared.api import wiring
from shared.api.callers import EntraAudience
from shared.api.http import ApiRequest, ApiResponse
from shared.api.operations import SERVED_OPERATIONS
from shared.api.service import HubApi
from shared.api.wiring import ApiSettings
from shared.composition import Hub, build_hub
from shared.settings import Settings
from tests.fixtures.servicebus_emulator import ServiceBusEmulator
from tests.pipeline.world import World

SYNC_REQUESTS = "sync-requests"
SITE_DAYS_SCHEDULE = "0 */15 * * * *"
SERVED = {operation.operation_id: operation for operation in SERVED_OPERATIONS}  # the tests name them by id


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
    """A live read the way ``shared/live_reads/reads.py`` declares one; counts the times it hits the database."""

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


def hub_over(world: World, azurite: str, emulator: ServiceBusEmulator) -> Hub:
    """The hub ``build_hub`` makes from settings naming the world's containers, running the world's engine.

    The engine is the world's so the API sees its test stream (``site_days``);
    every other client is the one the app builds.
    """
    settings = Settings(
        **{
            "StagingStorage": azurite,
            "ServiceBusConnection": emulator.connection_string,
            "STAGING_CONTAINER": world.staging.container.container_name,
            "STATE_CONTAINER": world.state.container.container_name,
            "SYNC_REQUESTS_QUEUE": SYNC_REQUESTS,
            "DATAVERSE_URL": "https://127.0.0.1:9",
            "DATAVERSE_TENANT_ID": "tenant",
            "DATAVERSE_CLIENT_ID": "client",
            "STATE_TABLE_PREFIX": "api" + uuid.uuid4().hex[:12],
        }
    )
    built = build_hub(settings)
    built.prepare_storage()
    world.use_stores(built.patient.runs, built.patient.stream_states)
    return dataclasses.replace(built, engine=world.engine)


def build_api(
    hub: Hub, tokens: EntraAudience | None = None, per_minute: int = 1000
) -> tuple[HubApi, SiteTotals]:
    """The API as the app wires it (``shared.api.wiring.build_api``), with a test live read over SQLite."""
    read = SiteTotals()
    engine = create_engine("sqlite://")
    settings = ApiSettings(
        rate_limit_per_minute=per_minute, entra=tokens, schedules={"site_days": SITE_DAYS_SCHEDULE}
    )
    return wiring.build_api(hub, settings, reads=[read], edw_engine=lambda: engine), read


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
    return api.handle(SERVED[operation], request)
