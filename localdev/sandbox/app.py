"""The sandbox as one ASGI app: Entra ID, the Dataverse environment, Microsoft Graph, a Salesforce org, controls.

Both halves share the signing key, so a token the identity endpoints issue is the
one the Web API accepts. The environment's org URL is the sandbox's own address
(``https://127.0.0.1:<port>``) unless told otherwise; it is always a resource the
identity endpoints issue tokens for (``scope=<org URL>/.default``), and so is
Microsoft Graph (``https://graph.microsoft.com/.default``), served under ``/v1.0``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from starlette.applications import Starlette

from localdev.sandbox.dataverse.collation import DEFAULT_COLLATION, Collation
from localdev.sandbox.dataverse.environment import DataverseEnvironment
from localdev.sandbox.dataverse.protection import ServiceProtection, ThrottleSettings
from localdev.sandbox.dataverse.schema import DEFAULT_TABLES, load_schema
from localdev.sandbox.dataverse.service_endpoint import ServiceEndpoint, StepRegistration
from localdev.sandbox.dataverse.store import RowStore
from localdev.sandbox.dataverse.webapi import DEFAULT_CHANGE_TRACKING_SECONDS, WebApi
from localdev.sandbox.directory import DEFAULT_DIRECTORY, Resource, load_directory
from localdev.sandbox.graph.service import GRAPH_RESOURCE, GraphService
from localdev.sandbox.identity import DEFAULT_TOKEN_LIFETIME_SECONDS, IdentityProvider
from localdev.sandbox.salesforce.org import SalesforceOrg
from localdev.sandbox.salesforce.routes import SalesforceSandbox
from localdev.sandbox.salesforce.seed import seed_pipeline
from localdev.sandbox.signing_key import SigningKey

DATABASE = "dataverse.sqlite3"


@dataclass(frozen=True)
class SandboxConfig:
    port: int
    data: Path
    org_url: str | None = None
    directory: Path = DEFAULT_DIRECTORY
    tables: Path = DEFAULT_TABLES
    token_lifetime_seconds: int = DEFAULT_TOKEN_LIFETIME_SECONDS
    throttle: ThrottleSettings = field(default_factory=ThrottleSettings)
    collation: Collation = DEFAULT_COLLATION
    change_tracking_seconds: float = DEFAULT_CHANGE_TRACKING_SECONDS
    service_bus_connection: str | None = field(default=None, repr=False)
    steps: tuple[StepRegistration, ...] = ()
    salesforce_seed: int | None = None  # seed the Salesforce org with a generated pipeline at start

    @property
    def base_url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    @property
    def environment_url(self) -> str:
        return (self.org_url or self.base_url).rstrip("/")


@dataclass(frozen=True)
class Sandbox:
    app: Starlette
    identity: IdentityProvider
    environment: DataverseEnvironment
    graph: GraphService
    salesforce: SalesforceSandbox


def build_sandbox(config: SandboxConfig) -> Sandbox:
    """Everything wired from ``config``; raises ``DirectoryError`` or ``SchemaError`` on a bad file."""
    org_url = config.environment_url
    directory = (
        load_directory(config.directory)
        .with_resource(Resource(org_url, org_url))
        .with_resource(Resource(GRAPH_RESOURCE, GRAPH_RESOURCE))
    )
    identity = IdentityProvider(
        config.base_url, directory, SigningKey.load_or_create(config.data), config.token_lifetime_seconds
    )
    store = RowStore(config.data / DATABASE, config.collation)
    api = WebApi(
        load_schema(config.tables),
        store,
        org_url,
        change_tracking_seconds=config.change_tracking_seconds,
        service_endpoint=ServiceEndpoint(org_url, config.service_bus_connection, config.steps),
    )
    protection = ServiceProtection()
    protection.configure(config.throttle)
    environment = DataverseEnvironment(api, identity, org_url, protection)
    graph = GraphService(identity, config.base_url, verify=True)
    salesforce = SalesforceSandbox(SalesforceOrg(config.base_url))
    if config.salesforce_seed is not None:
        seed_pipeline(salesforce.org, seed=config.salesforce_seed)
    app = Starlette(routes=[*identity.routes(), *environment.routes(), *graph.routes(), *salesforce.routes()])
    return Sandbox(app, identity, environment, graph, salesforce)
