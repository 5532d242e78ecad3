"""The one composition root: builds every client from the settings, once per process.

Functions keeps a worker process alive across invocations, so clients built
here (and their connection pools, token caches and circuit breakers) are reused
by every trigger. Triggers ask for ``hub()``; tests build a ``Hub`` from their
own ``Settings`` with ``build_hub``.

Blob storage and Service Bus are each connected twice: patiently for the
triggers, and with short time-outs (``hub.for_api``) for the API, whose callers
must hear 503 within seconds when a dependency is down
(``shared.platform.patience``).
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from azure.core.credentials import TokenCredential
from azure.identity import DefaultAzureCredential
from azure.storage.blob import BlobServiceClient
from sqlalchemy import Engine

from shared.connectors.catalog import hub_streams
from shared.connectors.dataverse.auth import DataverseToken
from shared.connectors.dataverse.client import DataverseClient, web_api_root
from shared.connectors.dataverse.collation import KeyCollation
from shared.connectors.dataverse.job_profile_mappings import dataverse_hand_mappings
from shared.connectors.dataverse.sink import DataverseSink
from shared.connectors.graph.client import GRAPH_SCOPE_RESOURCE, GraphClient
from shared.connectors.graph.list_items import ListItems, RevenueListRef
from shared.connectors.graph.mail import Mailbox
from shared.connectors.graph.subscriptions import Subscriptions
from shared.connectors.great_plains.chart import ChartCache, FiscalPeriods
from shared.connectors.great_plains.ledger import GpLedger
from shared.connectors.great_plains.smartconnect import SmartConnect
from shared.connectors.legion.days import utc_today
from shared.connectors.legion.wage_rates import DifferentialPay
from shared.connectors.salesforce.budget import ApiBudget
from shared.connectors.salesforce.bulk import BulkQuery, BulkSettings
from shared.connectors.salesforce.rest import SalesforceRest
from shared.connectors.salesforce.session import SalesforceSession
from shared.connectors.syncs import SYNCS
from shared.errors import ErrorClass, HubError
from shared.http.hosts import HostRegistry
from shared.pipeline.delivery import Redeliveries, RetrySchedule
from shared.pipeline.handlers import BatchLoads, SyncRequests
from shared.pipeline.load import BatchLoader
from shared.pipeline.run_events import run_event
from shared.pipeline.run_queue import RunQueue, StreamSlots
from shared.pipeline.run_table import RunTable
from shared.pipeline.run_telemetry import count_settled
from shared.pipeline.stream_state_table import StreamStateTable
from shared.pipeline.sync import SyncEngine
from shared.pipeline.watchdog import Watchdog
from shared.platform import service_bus
from shared.platform.blob_lock import BlobLocks
from shared.platform.blob_store import BlobStore
from shared.platform.cloud_events import EventTopic, WriteEvents
from shared.platform.dead_letter_shelf import DeadLetterShelf
from shared.platform.patience import FOR_API_CALLERS, FOR_TRIGGERS, Patience
from shared.platform.secrets import KeyVaultSecretStore, SecretStore, SettingsSecretStore
from shared.platform.service_bus import ServiceBus
from shared.platform.table_service import table_service
from shared.platform.table_store import TableStore
from shared.settings import Settings, hub_settings
from shared.sql.engines import connect_sql
from shared.workflows.billing.desk import BillingChecks
from shared.workflows.billing.edw_reporting import BillingReporting
from shared.workflows.budget_revisions.approved_budget import BudgetApprovals, FixedFrom
from shared.workflows.budget_revisions.events import revision_event
from shared.workflows.budget_revisions.revision_table import RevisionTable
from shared.workflows.dataverse_events.workflow import DataverseEvents
from shared.workflows.gp_posting.audit import PostingAudit
from shared.workflows.gp_posting.billing import BatchIdStyle
from shared.workflows.gp_posting.events import posting_event
from shared.workflows.gp_posting.poster import GpPoster
from shared.workflows.gp_posting.request_table import PostingRequestTable
from shared.workflows.gp_posting.statements import StatementReader
from shared.workflows.gp_posting.sweep import GpSweep
from shared.workflows.gp_posting.unit_statistics import UnitStatisticsSource
from shared.workflows.gp_posting.workflow import GpPostings
from shared.workflows.lead_capture.captures import LeadCaptures
from shared.workflows.pipeline_reporting.report import PipelineReporting
from shared.workflows.revenue_submissions.state import CheckClaims, DeltaLinks
from shared.workflows.revenue_submissions.subscriptions import SubscriptionKeeper
from shared.workflows.revenue_submissions.workflow import RevenueSubmissions


@dataclass(frozen=True)
class PlatformClients:
    """Blob containers, the state tables and Service Bus, reached with one ``Patience``."""

    staging: BlobStore
    state: BlobStore
    audit: BlobStore  # write-once: production keeps it under a time-based retention policy
    service_bus: ServiceBus
    runs: RunTable
    stream_states: StreamStateTable
    posting_requests: PostingRequestTable
    budget_revisions: RevisionTable
    tables: tuple[TableStore, ...]

    @property
    def streams_table(self) -> TableStore:
        """The streams' table, where the revenue submissions keep their delta links and claims too."""
        return self.tables[2]


@dataclass(frozen=True)
class Hub:
    """Every long-lived client the hub's use cases need; ``for_api`` gives up on a dependency in seconds."""

    settings: Settings
    secrets: SecretStore
    staging: BlobStore
    state: BlobStore
    locks: BlobLocks
    service_bus: ServiceBus
    hosts: HostRegistry
    edw: Engine | None
    engine: SyncEngine
    loader: BatchLoader
    dataverse: DataverseClient
    gp_databases: GpCompanyDatabases | None
    for_api: PlatformClients
    patient: PlatformClients
    salesforce: SalesforceRest | None = None

    @functools.cached_property
    def redeliveries(self) -> Redeliveries:
        settings = self.settings
        schedule = RetrySchedule(
            first_delay=timedelta(seconds=settings.retry_first_delay_seconds),
            max_delay=timedelta(seconds=settings.retry_max_delay_seconds),
            budget=timedelta(minutes=settings.retry_budget_minutes),
        )
        return Redeliveries(self.service_bus, DeadLetterShelf(self.state), schedule)

    @functools.cached_property
    def run_queue(self) -> RunQueue:
        return RunQueue(
            self.engine.catalog,
            self.patient.runs,
            self.engine.slots,
            self.service_bus,
            self.settings.sync_requests_queue,
            self.engine.now,
        )

    @functools.cached_property
    def run_queue_for_api(self) -> RunQueue:
        """Runs as the API queues and reads them, with the clients that give up in seconds."""
        return RunQueue(
            self.engine.catalog,
            self.for_api.runs,
            StreamSlots(self.for_api.state),
            self.for_api.service_bus,
            self.settings.sync_requests_queue,
            self.engine.now,
        )

    @functools.cached_property
    def sync_requests(self) -> SyncRequests:
        return SyncRequests(self.engine, self.run_queue, self.redeliveries)

    @functools.cached_property
    def batch_loads(self) -> BatchLoads:
        return BatchLoads(self.loader, self.redeliveries)

    @functools.cached_property
    def watchdog(self) -> Watchdog:
        return Watchdog(
            self.engine,
            self.run_queue,
            self.loader,
            self.engine.now,
            lambda: self.gp_postings if self.gp_configured else None,
            lag_of=(self.patient.runs, self.scheduled_streams),
        )

    @property
    def scheduled_streams(self) -> tuple[str, ...]:
        """The streams a timer runs, of those configured here: the ones whose lag an alert watches."""
        configured = {stream.name for stream in self.engine.catalog}
        return tuple(stream for sync in SYNCS for stream in sync.streams if stream in configured)

    @property
    def gp_configured(self) -> bool:
        return self.settings.gp_smartconnect_url is not None and self.gp_databases is not None

    @functools.cached_property
    def gp_poster(self) -> GpPoster:
        """SmartConnect through the hybrid connection, checked against GP's own tables, chart and periods."""
        smartconnect_url, databases = self._gp_settings()
        ledger = GpLedger(databases.engine)
        return GpPoster(
            SmartConnect(self.hosts.client(smartconnect_url), self.settings.gp_smartconnect_path),
            self.staging,
            ledger,
            PostingAudit(self.patient.audit, self.dataverse),
            known_account=ChartCache(ledger, GP_CACHE_SECONDS).known,
            check_period=FiscalPeriods(databases.engine, GP_CACHE_SECONDS).check,
            locks=self.locks if self.settings.gp_serialise_per_company else None,
        )

    @functools.cached_property
    def gp_postings(self) -> GpPostings:
        """Postings as the triggers process them, with the patient clients."""
        return self._gp_postings(self.patient.posting_requests, self.service_bus)

    @functools.cached_property
    def gp_postings_for_api(self) -> GpPostings:
        """Postings as the API records and reads them, with the clients that give up in seconds."""
        return self._gp_postings(self.for_api.posting_requests, self.for_api.service_bus)

    def _gp_postings(self, requests: PostingRequestTable, bus: ServiceBus) -> GpPostings:
        return GpPostings(
            requests,
            bus,
            self.settings.gp_postings_queue,
            self.gp_poster,
            StatementReader(self.dataverse),
            self.dataverse,
            UnitStatisticsSource(self.edw) if self.edw is not None else None,
            self.redeliveries,
            BatchIdStyle(self.settings.gp_batch_id_style),
        )

    @functools.cached_property
    def billing_checks(self) -> BillingChecks | None:
        """Billing readiness and reconciliation: they read GP's company databases, so None without GP_SQL_URL."""
        if self.gp_databases is None:
            return None
        return BillingChecks(self.dataverse, self.gp_databases.engine, self.settings.gp_companies.split(","))

    @functools.cached_property
    def billing_reporting(self) -> BillingReporting | None:
        """The copy of billing into the EDW's TP_STAGE tables: None without EDW_SQL_URL."""
        return BillingReporting(self.dataverse, self.edw) if self.edw is not None else None

    @functools.cached_property
    def pipeline_reporting(self) -> PipelineReporting | None:
        """The weighted Salesforce pipeline in the EDW's TP_STAGE: None without EDW_SQL_URL."""
        return PipelineReporting(self.dataverse, self.edw, self.engine.now) if self.edw is not None else None

    @functools.cached_property
    def lead_captures(self) -> LeadCaptures:
        """Lead captures as the queue trigger files them, with the patient clients."""
        return self._lead_captures(self.patient)

    @functools.cached_property
    def lead_captures_for_api(self) -> LeadCaptures:
        """Lead captures as the API accepts them, with the clients that give up in seconds."""
        return self._lead_captures(self.for_api)

    def _lead_captures(self, clients: PlatformClients) -> LeadCaptures:
        return LeadCaptures(
            clients.state,
            clients.service_bus,
            self.settings.lead_captures_queue,
            functools.partial(self.secrets.get, LEAD_CAPTURE_SIGNING_SECRET),
            lambda: self.salesforce,
            lambda: self.redeliveries,
            self.engine.now,
        )

    @functools.cached_property
    def gp_sweep(self) -> GpSweep:
        return GpSweep(self.dataverse, self.state, self.gp_postings)

    @functools.cached_property
    def dataverse_events(self) -> DataverseEvents:
        return DataverseEvents(
            self.dataverse,
            lambda: self.gp_postings if self.gp_configured else None,
            self.run_queue,
            lambda: {stream.name for stream in self.engine.catalog},
            self.redeliveries,
        )

    @property
    def rss_configured(self) -> bool:
        """Revenue submissions run when lists are named (``RSS_REVENUE_LISTS``) and the EDW is reachable."""
        return bool(self.settings.rss_lists) and self.edw is not None

    @functools.cached_property
    def graph(self) -> GraphClient:
        """Graph with the hub's app registration, app-only (``https://graph.microsoft.com/.default``)."""
        settings = self.settings
        token = DataverseToken(
            org_url=GRAPH_SCOPE_RESOURCE,
            tenant_id=settings.dataverse_tenant_id,
            client_id=settings.dataverse_client_id,
            client_secret=functools.partial(self.secrets.get, DATAVERSE_CLIENT_SECRET),
            authority_host=str(settings.entra_authority_host),
            verify=settings.local_ca_bundle or True,
        )
        return GraphClient(self.hosts.client(str(settings.graph_url)), token)

    @functools.cached_property
    def revenue_submissions(self) -> RevenueSubmissions:
        """Revenue submissions as the triggers sweep and check them, with the patient clients."""
        return self._revenue_submissions(self.patient)

    @functools.cached_property
    def revenue_submissions_for_api(self) -> RevenueSubmissions:
        """As the webhook queues notified lists: on clients that give up in seconds (Graph waits 3 s)."""
        return self._revenue_submissions(self.for_api)

    def _revenue_submissions(self, clients: PlatformClients) -> RevenueSubmissions:
        settings, edw = self.settings, self.edw
        if not self.rss_configured or edw is None or settings.rss_mailbox is None:
            raise HubError(
                "revenue submissions are off: set RSS_REVENUE_LISTS (with RSS_NOTIFICATION_URL, RSS_MAILBOX) "
                "and EDW_SQL_URL to turn them on",
                error_class=ErrorClass.CONFIG,
            )
        return RevenueSubmissions(
            lists=self.rss_lists,
            items=ListItems(self.graph),
            edw=edw,
            dataverse=self.dataverse,
            mailbox=Mailbox(self.graph, settings.rss_mailbox),
            links=DeltaLinks(clients.streams_table),
            claims=CheckClaims(clients.streams_table),
            bus=clients.service_bus,
            queue=settings.rss_submissions_queue,
            redeliveries=self.redeliveries,
            client_state=functools.partial(self.secrets.get, RSS_WEBHOOK_SECRET),
            tolerance=settings.rss_deposit_tolerance,
            now=_utc_now,
        )

    @functools.cached_property
    def rss_subscriptions(self) -> SubscriptionKeeper:
        return SubscriptionKeeper(
            Subscriptions(self.graph),
            self.rss_lists,
            str(self.settings.rss_notification_url),
            functools.partial(self.secrets.get, RSS_WEBHOOK_SECRET),
            timedelta(hours=self.settings.rss_renew_within_hours),
            _utc_now,
        )

    @property
    def rss_lists(self) -> tuple[RevenueListRef, ...]:
        return tuple(RevenueListRef(site, listed) for site, listed in self.settings.rss_lists)

    def _gp_settings(self) -> tuple[str, GpCompanyDatabases]:
        url, databases = self.settings.gp_smartconnect_url, self.gp_databases
        if url is None or databases is None:
            raise HubError(
                "GP posting is off: set GP_SMARTCONNECT_URL and GP_SQL_URL to turn it on",
                error_class=ErrorClass.CONFIG,
            )
        return str(url), databases

    def prepare_storage(self) -> None:
        """Create the containers and tables the hub's state lives in, where a fresh account lacks them."""
        for container in (self.staging, self.state, self.patient.audit):
            container.ensure_container()
        for table in self.patient.tables:
            table.ensure_table()

    def health_checks(self) -> dict[str, Callable[[], None]]:
        """What ``GET /api/health/ready`` probes: each returns when its dependency answers.

        The probes use the API's clients, so a dependency that is down fails
        its probe within seconds instead of leaving a thread retrying. A
        downstream host whose circuit breaker is open is reported down too:
        the hub is refusing to call it until the cool-down ends.
        """
        checks: dict[str, Callable[[], None]] = {
            "blob": self.for_api.staging.check,
            "table": self.for_api.tables[0].check,
            "service_bus": functools.partial(
                self.for_api.service_bus.check, self.settings.sync_requests_queue
            ),
        }
        if self.settings.key_vault_uri is not None:
            checks["key_vault"] = self.secrets.check
        for host, state in self.hosts.breaker_states().items():
            checks[f"circuit:{host}"] = functools.partial(_circuit_closed, host, state)
        return checks


def _circuit_closed(host: str, state: str) -> None:
    if state == "open":
        raise ConnectionError(f"circuit open: the hub stopped calling {host} after repeated failures")


DATAVERSE_CLIENT_SECRET = "dataverse-client-secret"  # noqa: S105 - the Key Vault secret's name
EDW_SQL_PASSWORD = "edw-sql-password"  # noqa: S105 - the Key Vault secret's name
SALESFORCE_CLIENT_SECRET = "salesforce-client-secret"  # noqa: S105 - the Key Vault secret's name
LEAD_CAPTURE_SIGNING_SECRET = "lead-capture-signing-secret"  # noqa: S105 - the Key Vault secret's name
GP_SQL_PASSWORD = "gp-sql-password"  # noqa: S105 - the Key Vault secret's name (GP-SQL-PASSWORD)
RSS_WEBHOOK_SECRET = "rss-webhook-secret"  # noqa: S105 - the Key Vault secret: the subscriptions' clientState
GP_CACHE_SECONDS = 900  # how long a company's chart and fiscal periods are trusted before reading again


class GpCompanyDatabases:
    """One pooled engine per GP company database, made on first use from ``GP_SQL_URL``."""

    def __init__(self, url: str, secrets: SecretStore, timeout_seconds: int) -> None:
        self._url = url
        self._secrets = secrets
        self._timeout_seconds = timeout_seconds
        self._engines: dict[str, Engine] = {}
        self._lock = threading.Lock()

    def engine(self, company: str) -> Engine:
        """The company's engine (``{company}`` in the URL filled in with its interID)."""
        with self._lock:
            engine = self._engines.get(company)
            if engine is None:
                url = self._url.replace("{company}", company)
                password = functools.partial(self._secrets.get, GP_SQL_PASSWORD)
                engine = connect_sql(url, password, self._timeout_seconds, databases=())
                self._engines[company] = engine
            return engine


@functools.cache
def hub() -> Hub:
    return build_hub(hub_settings())


def build_hub(settings: Settings) -> Hub:
    credential = _credential(settings)
    patient = _platform_clients(settings, credential, FOR_TRIGGERS)
    staging, state, bus = patient.staging, patient.state, patient.service_bus
    secrets = _secret_store(settings, credential)
    hosts = HostRegistry(verify=settings.local_ca_bundle or True)
    locks = BlobLocks(state.container)
    edw = _edw_engine(settings, secrets)
    gp_databases = (
        GpCompanyDatabases(settings.gp_sql_url, secrets, settings.sql_query_timeout_seconds)
        if settings.gp_sql_url is not None
        else None
    )
    dataverse = _dataverse_client(settings, secrets, hosts)
    salesforce = _salesforce(settings, secrets, hosts)
    catalog = hub_streams(
        edw,
        differential_pay=DifferentialPay(settings.wage_rate_differential_pay),
        gp_company_engine=gp_databases.engine if gp_databases is not None else None,
        gp_companies=settings.gp_companies.split(","),
        batch_rows=settings.sync_batch_rows,
        change_tracked=settings.change_tracked_tables,
        actuals_reread_days=settings.actuals_reread_days,
        approved_budget=BudgetApprovals(
            patient.budget_revisions, state, FixedFrom.parse(settings.budget_fixed_from), utc_today, _utc_now
        ),
        hand_mappings=dataverse_hand_mappings(dataverse),
        salesforce=salesforce,
        salesforce_bulk=(
            BulkQuery(salesforce, BulkSettings(settings.salesforce_bulk_threshold))
            if salesforce is not None
            else None
        ),
        dataverse=dataverse,
    )
    engine = SyncEngine(
        catalog,
        staging,
        state,
        locks,
        bus,
        settings.batch_loads_queue,
        runs=patient.runs,
        states=patient.stream_states,
    )
    return Hub(
        settings=settings,
        secrets=secrets,
        staging=staging,
        state=state,
        locks=locks,
        service_bus=bus,
        hosts=hosts,
        edw=edw,
        engine=engine,
        loader=BatchLoader(
            catalog,
            staging,
            state,
            DataverseSink(dataverse, key_collation=KeyCollation(settings.dataverse_collation)),
            engine.now,
            runs=patient.runs,
        ),
        dataverse=dataverse,
        gp_databases=gp_databases,
        for_api=_platform_clients(settings, credential, FOR_API_CALLERS),
        patient=patient,
        salesforce=salesforce,
    )


def _platform_clients(
    settings: Settings, credential: TokenCredential | None, patience: Patience
) -> PlatformClients:
    blob_service = _blob_service(settings, credential, patience)
    state = BlobStore(blob_service, settings.state_container)
    tables = table_service(
        settings.table, credential, settings.managed_identity_client_id, patience.blob.table_options()
    )
    names = settings.state_tables
    runs, postings, streams = (
        TableStore(tables, name) for name in (names.runs, names.postings, names.streams)
    )
    budgets = TableStore(tables, settings.budget_table)
    bus = service_bus.connect(settings.service_bus_connection, credential, patience.bus)
    # Events are published inside every run-record write: on a client that gives up within seconds.
    quick_bus = service_bus.connect(settings.service_bus_connection, credential, FOR_API_CALLERS.bus)
    events = EventTopic(quick_bus, settings.run_events_topic)
    return PlatformClients(
        staging=BlobStore(blob_service, settings.staging_container),
        state=state,
        audit=BlobStore(blob_service, settings.audit_container),
        service_bus=bus,
        runs=RunTable(runs, state, observers=(count_settled, WriteEvents(events, run_event, _utc_now))),
        stream_states=StreamStateTable(streams, state),
        posting_requests=PostingRequestTable(
            postings, state, observers=(WriteEvents(events, posting_event, _utc_now),)
        ),
        budget_revisions=RevisionTable(
            budgets, state, observers=(WriteEvents(events, revision_event, _utc_now),)
        ),
        tables=(runs, postings, streams, budgets),
    )


def _edw_engine(settings: Settings, secrets: SecretStore) -> Engine | None:
    """The EDW SQL Server (TP_EDW, TP_LEGION, TP_STAGE on one instance)."""
    if settings.edw_sql_url is None:
        return None
    password = functools.partial(secrets.get, EDW_SQL_PASSWORD)
    return connect_sql(settings.edw_sql_url, password, settings.sql_query_timeout_seconds)


def _salesforce(settings: Settings, secrets: SecretStore, hosts: HostRegistry) -> SalesforceRest | None:
    """The org's REST API as the connected app, within the hub's share of its daily calls."""
    if settings.salesforce_url is None or settings.salesforce_client_id is None:
        return None
    session = SalesforceSession(
        hosts.client(str(settings.salesforce_url).rstrip("/")),
        settings.salesforce_client_id,
        functools.partial(secrets.get, SALESFORCE_CLIENT_SECRET),
    )
    return SalesforceRest(
        hosts,
        session,
        ApiBudget(settings.salesforce_api_share),
        api_version=settings.salesforce_api_version,
        batch_size=settings.salesforce_query_batch_size,
    )


def _dataverse_client(settings: Settings, secrets: SecretStore, hosts: HostRegistry) -> DataverseClient:
    org_url = str(settings.dataverse_url).rstrip("/")
    token = DataverseToken(
        org_url=org_url,
        tenant_id=settings.dataverse_tenant_id,
        client_id=settings.dataverse_client_id,
        client_secret=functools.partial(secrets.get, DATAVERSE_CLIENT_SECRET),
        authority_host=str(settings.entra_authority_host),
        verify=settings.local_ca_bundle or True,
    )
    return DataverseClient(hosts.client(web_api_root(org_url)), token)


def _credential(settings: Settings) -> TokenCredential | None:
    """The managed identity, when some connection is identity-based; locally there is none."""
    needs_identity = (
        settings.key_vault_uri is not None
        or settings.blob.connection_string is None
        or settings.table.connection_string is None
        or settings.service_bus_connection.connection_string is None
    )
    if not needs_identity:
        return None
    return DefaultAzureCredential(managed_identity_client_id=settings.managed_identity_client_id)


def _blob_service(
    settings: Settings, credential: TokenCredential | None, patience: Patience
) -> BlobServiceClient:
    connection, options = settings.blob, patience.blob.client_options()
    if connection.connection_string:
        return BlobServiceClient.from_connection_string(connection.connection_string, **options)
    if connection.client_id and connection.client_id != settings.managed_identity_client_id:
        credential = DefaultAzureCredential(managed_identity_client_id=connection.client_id)
    return BlobServiceClient(str(connection.service_uri), credential=credential, **options)


def _secret_store(settings: Settings, credential: TokenCredential | None) -> SecretStore:
    if settings.key_vault_uri is None or credential is None:
        return SettingsSecretStore(settings.local_secrets)
    return KeyVaultSecretStore.connect(
        str(settings.key_vault_uri), credential, settings.key_vault_cache_seconds
    )


def _utc_now() -> datetime:
    return datetime.now(UTC)
