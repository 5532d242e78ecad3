"""The hub's settings: every value it reads from its environment, typed and checked once.

Azure hands a Function App its configuration as app settings (environment
variables, with Key Vault references already resolved). Locally the same names
come from ``local.settings.json`` ``Values``, which Core Tools and the local host
export and which command-line tools read through this module. Nothing else in
the hub reads ``os.environ`` but the start-up check: a setting that is missing,
or a timer schedule that is malformed, stops the app at start-up with the
setting's name and what it expects (``shared/settings_at_start.py``, which
needs no pydantic); any other malformed value fails the hub's first use,
naming it.

Connections follow the Functions convention so the same setting serves the
triggers and the hub's own clients: ``<Name>`` holds a connection string
(locally), or ``<Name>__blobServiceUri`` / ``<Name>__tableServiceUri`` /
``<Name>__fullyQualifiedNamespace`` with an optional ``<Name>__clientId`` select a
managed identity (in Azure).

Each timer's schedule is NCRONTAB, checked by the rule the local Functions host
applies (``shared/ncrontab.py``); the scheduled syncs' settings are the ones
their declarations name (``shared/connectors/syncs.py``), not a copy here.
"""

from __future__ import annotations

import functools
import os
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AnyHttpUrl,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from shared.connectors.syncs import TIMED_SYNCS, ScheduledSync
from shared.ncrontab import ncrontab_problem

# Defined with the start-up check, which must not import this module; named here as well, where callers look.
from shared.settings_at_start import APP_ROOT as APP_ROOT  # noqa: PLC0414 - an explicit re-export
from shared.settings_at_start import IGNORE_LOCAL_SETTINGS as IGNORE_LOCAL_SETTINGS  # noqa: PLC0414
from shared.settings_at_start import LOCAL_SETTINGS_FILE as LOCAL_SETTINGS_FILE  # noqa: PLC0414
from shared.settings_at_start import SettingsError as SettingsError  # noqa: PLC0414
from shared.settings_at_start import local_values

LOCAL_SECRET_PREFIX = "SECRET_"  # noqa: S105 (a setting-name prefix, not a secret)
_LOCAL_SECRETS = "__local_secrets__"
_SYNC_SCHEDULES = "__sync_schedules__"
_local_settings_file: ContextVar[Path | None] = ContextVar("local_settings_file", default=None)


@dataclass(frozen=True)
class BlobConnection:
    """How to reach a storage account's Blob service: a connection string or an identity."""

    connection_string: str | None = None
    service_uri: str | None = None
    client_id: str | None = None


@dataclass(frozen=True)
class TableConnection:
    """How to reach the same account's Table service: the same connection string, or its own URI."""

    connection_string: str | None = None
    service_uri: str | None = None
    client_id: str | None = None


@dataclass(frozen=True)
class StateTableNames:
    """The tables the run records, GP posting requests and stream states live in."""

    runs: str
    postings: str
    streams: str

    @classmethod
    def with_prefix(cls, prefix: str) -> StateTableNames:
        return cls(runs=f"{prefix}Runs", postings=f"{prefix}Postings", streams=f"{prefix}Streams")

    @property
    def names(self) -> tuple[str, ...]:
        return (self.runs, self.postings, self.streams)


@dataclass(frozen=True)
class ServiceBusConnection:
    """How to reach a Service Bus namespace: a connection string or an identity."""

    connection_string: str | None = None
    fully_qualified_namespace: str | None = None
    client_id: str | None = None


def _ncrontab(expression: str) -> str:
    problem = ncrontab_problem(expression)
    if problem is not None:
        raise ValueError(f"the value {problem}")
    return expression


Ncrontab = Annotated[str, AfterValidator(_ncrontab)]


class _LocalSettingsFile(PydanticBaseSettingsSource):
    """Reads ``local.settings.json`` ``Values`` when the file exists: the local twin of app settings."""

    def __init__(self, settings_cls: type[BaseSettings], path: Path | None) -> None:
        super().__init__(settings_cls)
        self._values: dict[str, Any] = local_values(path)

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return self._values.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return dict(self._values)


class _PrefixedSecrets(PydanticBaseSettingsSource):
    """Gathers ``SECRET_*`` settings (environment first, then the local file) into one field.

    Their names are not known in advance, so no declared field can pick them up.
    """

    def __init__(self, settings_cls: type[BaseSettings], local_file: _LocalSettingsFile) -> None:
        super().__init__(settings_cls)
        self._local_file = local_file

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        merged = {**self._local_file(), **os.environ}
        found = {name: str(value) for name, value in merged.items() if name.startswith(LOCAL_SECRET_PREFIX)}
        return {_LOCAL_SECRETS: found}


class _SyncSchedules(PydanticBaseSettingsSource):
    """Gathers each declared sync's schedule setting (environment, then the local file, then its default).

    The settings' names and defaults are the syncs' declarations, so no
    declared field here could name them without copying the table.
    """

    def __init__(self, settings_cls: type[BaseSettings], local_file: _LocalSettingsFile) -> None:
        super().__init__(settings_cls)
        self._local_file = local_file

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        merged = {**self._local_file(), **os.environ}
        schedules = {
            sync.schedule_setting: merged.get(sync.schedule_setting, sync.default_schedule)
            for sync in TIMED_SYNCS
        }
        return {_SYNC_SCHEDULES: schedules}


class Settings(BaseSettings):
    """Every app setting the hub reads, by its app-setting name."""

    model_config = SettingsConfigDict(
        case_sensitive=True, extra="ignore", populate_by_name=False, validate_by_alias=True
    )

    staging_storage: str | None = Field(None, alias="StagingStorage")
    staging_storage_uri: AnyHttpUrl | None = Field(None, alias="StagingStorage__blobServiceUri")
    staging_storage_table_uri: AnyHttpUrl | None = Field(None, alias="StagingStorage__tableServiceUri")
    staging_storage_client_id: str | None = Field(None, alias="StagingStorage__clientId")
    service_bus: str | None = Field(None, alias="ServiceBusConnection")
    service_bus_namespace: str | None = Field(None, alias="ServiceBusConnection__fullyQualifiedNamespace")
    service_bus_client_id: str | None = Field(None, alias="ServiceBusConnection__clientId")

    staging_container: str = Field("hub-staging", alias="STAGING_CONTAINER", pattern=r"^[a-z0-9-]{3,63}$")
    state_container: str = Field("hub-state", alias="STATE_CONTAINER", pattern=r"^[a-z0-9-]{3,63}$")
    # GP's audit trail, apart from staging and state so that one container can be immutable.
    audit_container: str = Field("hub-audit", alias="AUDIT_CONTAINER", pattern=r"^[a-z0-9-]{3,63}$")
    # Table names are letters and digits only; the longest suffix ("Postings") keeps them within 63.
    state_table_prefix: str = Field("hub", alias="STATE_TABLE_PREFIX", pattern=r"^[A-Za-z][A-Za-z0-9]{2,54}$")
    sync_requests_queue: str = Field("sync-requests", alias="SYNC_REQUESTS_QUEUE", min_length=1)
    batch_loads_queue: str = Field("batch-loads", alias="BATCH_LOADS_QUEUE", min_length=1)
    gp_postings_queue: str = Field("gp-postings", alias="GP_POSTINGS_QUEUE", min_length=1)
    dataverse_events_queue: str = Field("dataverse-events", alias="DATAVERSE_EVENTS_QUEUE", min_length=1)
    lead_captures_queue: str = Field("lead-captures", alias="LEAD_CAPTURES_QUEUE", min_length=1)
    run_events_topic: str = Field("run-events", alias="RUN_EVENTS_TOPIC", min_length=1)

    key_vault_uri: AnyHttpUrl | None = Field(None, alias="KEY_VAULT_URI")
    key_vault_cache_seconds: int = Field(300, alias="KEY_VAULT_CACHE_SECONDS", ge=0, le=86_400)
    managed_identity_client_id: str | None = Field(None, alias="AZURE_CLIENT_ID")
    local_ca_bundle: Path | None = Field(None, alias="LOCAL_CA_BUNDLE")

    dataverse_url: AnyHttpUrl = Field(alias="DATAVERSE_URL")
    dataverse_tenant_id: str = Field(alias="DATAVERSE_TENANT_ID", min_length=1)
    dataverse_client_id: str = Field(alias="DATAVERSE_CLIENT_ID", min_length=1)
    entra_authority_host: AnyHttpUrl = Field(
        AnyHttpUrl("https://login.microsoftonline.com"), alias="ENTRA_AUTHORITY_HOST"
    )
    # The environment's text collation, fixed by its base language: CI_AI for English (US).
    dataverse_collation: Literal["CI_AI", "CI_AS"] = Field("CI_AI", alias="DATAVERSE_COLLATION")

    edw_sql_url: str | None = Field(None, alias="EDW_SQL_URL", pattern=r"^(mssql\+pymssql|sqlite)://")
    sql_query_timeout_seconds: int = Field(300, alias="SQL_QUERY_TIMEOUT_SECONDS", ge=1, le=3600)
    # How DIFFERENTIAL and MEAL PREMIUM rows count in wage rates: today's rule, or left out entirely.
    wage_rate_differential_pay: Literal["dollars_only", "excluded"] = Field(
        "dollars_only", alias="WAGE_RATE_DIFFERENTIAL_PAY"
    )
    # DOMAIN.md §5: a year's budget is fixed from this day (MM-dd) of that year; later changes need approval.
    budget_fixed_from: str = Field("01-01", alias="BUDGET_FIXED_FROM", pattern=r"^\d\d-\d\d$")

    # How many days before its watermark each actuals stream reads again: the payroll view's nightly
    # refresh and RSS resubmissions rewrite recent days (scheduled hours: days before today).
    actuals_reread_days: int = Field(3, alias="ACTUALS_REREAD_DAYS", ge=0, le=62)

    # Whether the hub reads each table's changes (SQL Server change tracking, enabled on the table by
    # Towne Park's DBAs) on its short timer; off, the streams read the table in full, as before.
    change_tracking_shift_entity: bool = Field(False, alias="CHANGE_TRACKING_SHIFT_ENTITY")
    change_tracking_workday_rls_bisecurity: bool = Field(
        False, alias="CHANGE_TRACKING_WORKDAY_RLS_BISECURITY"
    )
    change_tracking_master_non_financial: bool = Field(False, alias="CHANGE_TRACKING_MASTER_NON_FINANCIAL")

    gp_smartconnect_url: AnyHttpUrl | None = Field(
        None,
        alias="GP_SMARTCONNECT_URL",
        description="eOne SmartConnect's web server, e.g. http://gp-app01:80: in Azure the host:port the "
        "hybrid connection publishes, locally http://127.0.0.1:7082 (sandbox GP). Unset: GP posting is off "
        "(its API answers 503, its triggers raise a configuration error) and the rest of the hub runs.",
    )
    gp_smartconnect_path: str = Field(
        "/SmartConnect.asmx",
        alias="GP_SMARTCONNECT_PATH",
        pattern=r"^/",
        description="Path of the RunMapDataTable SOAP endpoint on that server (unconfirmed).",
    )
    gp_batch_id_style: Literal["today", "compact"] = Field(
        "today",
        alias="GP_BATCH_ID_STYLE",
        description="today: the flows' 25-character 202504POWERBILL2025-04-30; compact: 15 characters, "
        "202504PB250430, for a map that passes BatchID to GP unshortened (DOMAIN.md §10.3).",
    )
    gp_serialise_per_company: bool = Field(
        True,
        alias="GP_SERIALISE_PER_COMPANY",
        description="Post one document at a time per GP company, as the Logic App serialises today.",
    )
    gp_sql_url: str | None = Field(
        None,
        alias="GP_SQL_URL",
        pattern=r"^(mssql\+pymssql|sqlite)://.*\{company\}",
        description="SQLAlchemy URL of a GP company database with a {company} placeholder, e.g. "
        "mssql+pymssql://hub_reader@gp-sql01:1433/{company} (password: Key Vault secret gp-sql-password) "
        "or sqlite:///.local/gp/{company}.sqlite. Read to find documents GP holds and its chart of accounts.",
    )
    gp_companies: str = Field(
        "TOWNE,ENC,UPP",
        alias="GP_COMPANIES",
        pattern=r"^[A-Za-z0-9_]+(,[A-Za-z0-9_]+)*$",
        description="GP company databases (interIDs) the payment-status sync reads, comma-separated.",
    )
    gp_sweep_schedule: Ncrontab = Field(
        "0 */15 * * * *",
        alias="GP_SWEEP_SCHEDULE",
        description="NCRONTAB schedule of the sweep that queues GP postings the flows never handed over.",
    )
    billing_reconciliation_schedule: Ncrontab = Field(
        "0 0 12 6 * *",
        alias="BILLING_RECONCILIATION_SCHEDULE",
        description="NCRONTAB schedule of the reconciliation of last month's billing with GP (after the "
        "billing window, the month's first ~5 days).",
    )
    billing_reporting_schedule: Ncrontab = Field(
        "0 50 * * * *",
        alias="BILLING_REPORTING_SCHEDULE",
        description="NCRONTAB schedule of the copy of billing statements, invoices and GP postings into the "
        "EDW's TP_STAGE tables.",
    )
    salesforce_pipeline_reporting_schedule: Ncrontab = Field(
        "0 25 * * * *",
        alias="SALESFORCE_PIPELINE_REPORTING_SCHEDULE",
        description="NCRONTAB schedule of the weighted Salesforce pipeline's refresh in the EDW's TP_STAGE "
        "(after the hourly Salesforce sync at :10).",
    )

    graph_url: AnyHttpUrl = Field(
        AnyHttpUrl("https://graph.microsoft.com/v1.0"),
        alias="GRAPH_URL",
        description="Microsoft Graph's v1.0 root; locally the sandbox's https://127.0.0.1:7081/v1.0. The token "
        "is always for https://graph.microsoft.com, with the Dataverse app registration (DATAVERSE_CLIENT_ID).",
    )
    rss_revenue_lists: str | None = Field(
        None,
        alias="RSS_REVENUE_LISTS",
        pattern=r"^[^/;]+/[^/;]+(;[^/;]+/[^/;]+)*$",
        description="The Revenue lists the RSS deposit check watches, as <site-id>/<list-id> separated by ';' "
        "(a Graph site id holds commas). Unset: revenue submissions are off.",
    )
    rss_notification_url: AnyHttpUrl | None = Field(
        None,
        alias="RSS_NOTIFICATION_URL",
        description="The hub's Graph webhook as Graph reaches it: https://<app>.azurewebsites.net/api/graph/notifications.",
    )
    rss_mailbox: str | None = Field(
        None, alias="RSS_MAILBOX", description="The mailbox rejections are sent from (Graph sendMail)."
    )
    rss_deposit_tolerance: Decimal = Field(
        Decimal("0.00"),
        alias="RSS_DEPOSIT_TOLERANCE",
        ge=0,
        description="How far the RSS's recorded deposits may differ from account 4785 and still match (dollars).",
    )
    rss_submissions_queue: str = Field("rss-submissions", alias="RSS_SUBMISSIONS_QUEUE", min_length=1)
    rss_subscriptions_schedule: Ncrontab = Field(
        "0 0 8 * * *",
        alias="RSS_SUBSCRIPTIONS_SCHEDULE",
        description="NCRONTAB of the timer that creates and renews the lists' Graph subscriptions (02:00 CST).",
    )
    rss_sweep_schedule: Ncrontab = Field(
        "0 */15 * * * *",
        alias="RSS_SWEEP_SCHEDULE",
        description="NCRONTAB of the delta sweep of every list, which catches what notifications missed.",
    )
    rss_renew_within_hours: int = Field(72, alias="RSS_RENEW_WITHIN_HOURS", ge=1, le=700)

    salesforce_url: AnyHttpUrl | None = Field(
        None,
        alias="SALESFORCE_URL",
        description="The org's My Domain URL (https://<domain>.my.salesforce.com), where the connected app "
        "signs in with the client credentials flow (secret: Key Vault salesforce-client-secret). Unset: no "
        "Salesforce streams.",
    )
    salesforce_client_id: str | None = Field(None, alias="SALESFORCE_CLIENT_ID", min_length=1)
    salesforce_api_version: str = Field("v62.0", alias="SALESFORCE_API_VERSION", pattern=r"^v\d{2,3}\.0$")
    salesforce_api_share: float = Field(
        0.5,
        alias="SALESFORCE_API_SHARE",
        gt=0,
        le=1,
        description="The share of the org's daily API limit the hub may bring it to (Sforce-Limit-Info): a "
        "sync stops before it, so Towne Park's own users and integrations keep the rest.",
    )
    salesforce_query_batch_size: int = Field(2000, alias="SALESFORCE_QUERY_BATCH_SIZE", ge=200, le=2000)
    salesforce_bulk_threshold: int = Field(
        10_000,
        alias="SALESFORCE_BULK_THRESHOLD",
        ge=2000,
        description="A Salesforce read of this many records or more (a backfill, a first load) goes through "
        "a Bulk API 2.0 query job: a few API calls instead of one per 2,000 records.",
    )

    api_entra_client_id: str | None = Field(None, alias="API_ENTRA_CLIENT_ID")
    api_entra_tenant_id: str | None = Field(None, alias="API_ENTRA_TENANT_ID")
    api_entra_authority_host: AnyHttpUrl | None = Field(None, alias="API_ENTRA_AUTHORITY_HOST")
    api_rate_limit_per_minute: int = Field(300, alias="API_RATE_LIMIT_PER_MINUTE", ge=1, le=10_000)
    # The largest request body the API parses; the hub's bodies are a few hundred bytes.
    api_max_body_bytes: int = Field(1_048_576, alias="API_MAX_BODY_BYTES", ge=1024, le=100 * 1_048_576)

    retry_first_delay_seconds: float = Field(
        10,
        alias="RETRY_FIRST_DELAY_SECONDS",
        gt=0,
        le=3600,
        description="How long a queue message whose work failed for a moment waits before its second try; "
        "each later wait doubles (with jitter) up to RETRY_MAX_DELAY_SECONDS.",
    )
    retry_max_delay_seconds: float = Field(300, alias="RETRY_MAX_DELAY_SECONDS", gt=0, le=86_400)
    retry_budget_minutes: float = Field(
        60,
        alias="RETRY_BUDGET_MINUTES",
        gt=0,
        le=10_080,
        description="How long after its first try a message keeps being retried before it is dead-lettered: "
        "long enough to outlast a downstream outage of several minutes.",
    )
    sync_batch_rows: int = Field(
        5000,
        alias="SYNC_BATCH_ROWS",
        ge=1,
        le=100_000,
        description="Rows per staged batch at most, for every stream: each batch is one load message and a "
        "few $batch requests, loaded well inside a message's lock.",
    )
    applicationinsights_connection_string: SecretStr | None = Field(
        None,
        alias="APPLICATIONINSIGHTS_CONNECTION_STRING",
        description="Where the hub's spans, metrics and logs go in Azure (with the managed identity: local "
        "auth is off). Unset, no exporter is even imported.",
    )
    local_telemetry_folder: Path | None = Field(
        None,
        alias="LOCAL_TELEMETRY_FOLDER",
        description="Locally: write spans, metrics and logs as JSON lines here (what `python -m localdev "
        "trace` reads). Ignored when APPLICATIONINSIGHTS_CONNECTION_STRING is set.",
    )
    otel_exporter_otlp_endpoint: AnyHttpUrl | None = Field(
        None,
        alias="OTEL_EXPORTER_OTLP_ENDPOINT",
        description="An OTLP/HTTP collector to send telemetry to instead (the OpenTelemetry SDK reads its "
        "other OTEL_* settings itself).",
    )
    watchdog_schedule: Ncrontab = Field(
        "0 */5 * * * *",
        alias="WATCHDOG_SCHEDULE",
        description="NCRONTAB schedule of the watchdog that resumes or settles runs whose worker or message "
        "was lost.",
    )

    local_secret_values: dict[str, SecretStr] = Field(default_factory=dict, alias=_LOCAL_SECRETS)
    # Each scheduled sync's timer schedule, by its setting's name (``MASTER_CUSTOMER_SITES_SCHEDULE``).
    sync_schedules: dict[str, Ncrontab] = Field(default_factory=dict, alias=_SYNC_SCHEDULES)

    @field_validator(
        "applicationinsights_connection_string",
        "local_telemetry_folder",
        "otel_exporter_otlp_endpoint",
        mode="before",
    )
    @classmethod
    def _empty_is_unset(cls, value: Any) -> Any:
        """An app setting left empty turns its exporter off, as if it were not there."""
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("budget_fixed_from")
    @classmethod
    def _a_day_of_every_year(cls, text: str) -> str:
        month, day = (int(part) for part in text.split("-"))
        try:
            date(2001, month, day)  # not February 29: a day every year has
        except ValueError:
            raise ValueError("expects a month and day every year has, MM-dd (01-01)") from None
        return text

    @field_validator("local_ca_bundle")
    @classmethod
    def _bundle_exists(cls, path: Path | None) -> Path | None:
        if path is not None and not path.is_file():
            raise ValueError(f"expects the path of a PEM file, and {path} does not exist")
        return path

    @model_validator(mode="after")
    def _connections_are_complete(self) -> Settings:
        if not (self.staging_storage or self.staging_storage_uri):
            raise ValueError(
                "StagingStorage: expects a connection string, or StagingStorage__blobServiceUri "
                "(https://<account>.blob.core.windows.net) for a managed identity"
            )
        if self.staging_storage is None and self.staging_storage_table_uri is None:
            raise ValueError(
                "StagingStorage__tableServiceUri: expects https://<account>.table.core.windows.net "
                "beside StagingStorage__blobServiceUri (run records and postings live in its tables)"
            )
        if not (self.service_bus or self.service_bus_namespace):
            raise ValueError(
                "ServiceBusConnection: expects a connection string, or "
                "ServiceBusConnection__fullyQualifiedNamespace (<namespace>.servicebus.windows.net)"
            )
        return self

    @model_validator(mode="after")
    def _gp_is_complete(self) -> Settings:
        if self.gp_smartconnect_url is not None and self.gp_sql_url is None:
            raise ValueError(
                "GP_SQL_URL: expects the GP company databases' URL with a {company} placeholder whenever "
                "GP_SMARTCONNECT_URL is set (the hub checks GP before any posting is retried)"
            )
        return self

    @model_validator(mode="after")
    def _rss_is_complete(self) -> Settings:
        if self.rss_revenue_lists is not None and (self.rss_notification_url is None or not self.rss_mailbox):
            raise ValueError(
                "RSS_NOTIFICATION_URL and RSS_MAILBOX: expect the hub's webhook URL and the mailbox rejections "
                "are sent from whenever RSS_REVENUE_LISTS is set"
            )
        return self

    @property
    def rss_lists(self) -> tuple[tuple[str, str], ...]:
        """Each watched Revenue list as (site id, list id), from ``RSS_REVENUE_LISTS``; none when unset."""
        entries = (self.rss_revenue_lists or "").split(";")
        return tuple((site, listed) for site, _, listed in (e.partition("/") for e in entries) if listed)

    @model_validator(mode="after")
    def _salesforce_is_complete(self) -> Settings:
        if self.salesforce_url is not None and self.salesforce_client_id is None:
            raise ValueError(
                "SALESFORCE_CLIENT_ID: expects the connected app's consumer key whenever SALESFORCE_URL is set"
            )
        return self

    @property
    def blob(self) -> BlobConnection:
        return BlobConnection(
            connection_string=self.staging_storage,
            service_uri=str(self.staging_storage_uri) if self.staging_storage_uri else None,
            client_id=self.staging_storage_client_id or self.managed_identity_client_id,
        )

    @property
    def table(self) -> TableConnection:
        return TableConnection(
            connection_string=self.staging_storage,
            service_uri=str(self.staging_storage_table_uri) if self.staging_storage_table_uri else None,
            client_id=self.staging_storage_client_id or self.managed_identity_client_id,
        )

    @property
    def budget_table(self) -> str:
        """The table budget revisions live in (``<prefix>Budgets``: within 63 characters, as the others)."""
        return f"{self.state_table_prefix}Budgets"

    @property
    def state_tables(self) -> StateTableNames:
        return StateTableNames.with_prefix(self.state_table_prefix)

    @property
    def service_bus_connection(self) -> ServiceBusConnection:
        return ServiceBusConnection(
            connection_string=self.service_bus,
            fully_qualified_namespace=self.service_bus_namespace,
            client_id=self.service_bus_client_id or self.managed_identity_client_id,
        )

    @property
    def change_tracked_tables(self) -> frozenset[str]:
        """The tables whose changes the hub reads, by name: ``SHIFT_ENTITY`` ..."""
        switches = {
            "SHIFT_ENTITY": self.change_tracking_shift_entity,
            "WORKDAY_RLS_BISECURITY": self.change_tracking_workday_rls_bisecurity,
            "MASTER_NON_FINANCIAL": self.change_tracking_master_non_financial,
        }
        return frozenset(table for table, on in switches.items() if on)

    def schedule(self, sync: ScheduledSync) -> str:
        """The NCRONTAB ``sync``'s timer runs on: its app setting's value, or the declared default when unset."""
        return self.sync_schedules[sync.schedule_setting]

    @property
    def local_secrets(self) -> dict[str, SecretStr]:
        """Secrets given as ``SECRET_<NAME>`` settings, keyed by their Key Vault name (``<name>``).

        ``SECRET_DATAVERSE_CLIENT_SECRET`` stands in locally for the Key Vault
        secret ``dataverse-client-secret``.
        """
        return {
            name[len(LOCAL_SECRET_PREFIX) :].lower().replace("_", "-"): value
            for name, value in self.local_secret_values.items()
        }

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        local_file = _LocalSettingsFile(settings_cls, _local_settings_file.get())
        return (
            init_settings,
            env_settings,
            local_file,
            _PrefixedSecrets(settings_cls, local_file),
            _SyncSchedules(settings_cls, local_file),
        )


def load_settings(local_file: Path | None = LOCAL_SETTINGS_FILE) -> Settings:
    """Build the settings, or raise ``SettingsError`` naming each bad setting without echoing values.

    Values are left out of the message on purpose: a malformed setting may be a
    secret. ``local_file`` is read when it exists (it never does in Azure).
    """
    chosen = _local_settings_file.set(local_file)
    try:
        return Settings()
    except ValidationError as error:
        problems = []
        for item in error.errors(include_input=False, include_url=False):
            # A sync's schedule is reported by its own setting's name, not the field gathering them.
            name = ".".join(str(part) for part in item["loc"] if part != _SYNC_SCHEDULES) or "settings"
            message = item["msg"].removeprefix("Value error, ")
            problems.append(message if name == "settings" else f"{name}: {message}")
        raise SettingsError("The hub's settings are incomplete: " + "; ".join(problems)) from None
    finally:
        _local_settings_file.reset(chosen)


@functools.cache
def hub_settings() -> Settings:
    """The process's settings, read once; raises ``SettingsError`` naming what is missing or malformed."""
    ignored = os.environ.get(IGNORE_LOCAL_SETTINGS, "").lower() == "true"
    return load_settings(None if ignored else LOCAL_SETTINGS_FILE)


class ConnectorSettings(BaseSettings):
    """What ``make connector`` writes into the connector files: where the API is, and its Entra ID app.

    Read like the app's settings (the environment, then ``local.settings.json``),
    but on its own, so writing the connector needs none of the hub's connections.
    """

    model_config = SettingsConfigDict(case_sensitive=True, extra="ignore", validate_by_alias=True)

    host: str | None = Field(
        None,
        alias="CONNECTOR_HOST",
        pattern=r"^[A-Za-z0-9.-]+(:[0-9]{1,5})?$",
        description="The Function App's host name (func-x.azurewebsites.net) the connector calls; "
        "127.0.0.1:7071 is called over http.",
    )
    client_id: str | None = Field(
        None,
        alias="CONNECTOR_ENTRA_CLIENT_ID",
        description="The connector's own app registration, when it is not the API's (API_ENTRA_CLIENT_ID).",
    )
    api_entra_client_id: str | None = Field(None, alias="API_ENTRA_CLIENT_ID")
    api_entra_tenant_id: str | None = Field(None, alias="API_ENTRA_TENANT_ID")
    api_entra_authority_host: AnyHttpUrl | None = Field(None, alias="API_ENTRA_AUTHORITY_HOST")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return init_settings, env_settings, _LocalSettingsFile(settings_cls, _local_settings_file.get())


def load_connector_settings(local_file: Path | None = LOCAL_SETTINGS_FILE) -> ConnectorSettings:
    """The connector's settings; raises ``SettingsError`` naming a malformed one."""
    chosen = _local_settings_file.set(local_file)
    try:
        return ConnectorSettings()
    except ValidationError as error:
        names = ", ".join(".".join(str(part) for part in item["loc"]) for item in error.errors())
        raise SettingsError(f"The connector's settings are malformed: {names}") from None
    finally:
        _local_settings_file.reset(chosen)
