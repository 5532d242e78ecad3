"""The chaos run's local world: ``make run``'s services on free ports in a folder of the run's own.

Unlike ``make run`` nothing here is supervised to stop the world when a child
dies: the runner itself kills the Functions host (SIGKILL, as a crashed worker
dies) and starts it again on the same port and settings, and restarts Azurite
and the Service Bus emulator once each over the same data folders (Azurite's
``--location``; the emulator's SQLite store, which keeps every message and
releases the locks it held when it stopped).
"""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from azure.data.tables import TableServiceClient
from azure.storage.blob import BlobServiceClient

from localdev import services
from localdev.local_ca import server_certificate
from localdev.sandbox_gp.world_chart import COMPANIES as GP_COMPANIES
from localdev.sandbox_gp.world_chart import seed_world_chart
from localdev.sandbox_gp.world_customers import seed_world_customers
from shared.connectors.syncs import SYNCS
from shared.platform.blob_store import BlobStore
from shared.settings import StateTableNames

SERVICE_BUS_CONFIG = services.REPO / "localdev" / "servicebus_emulator" / "config.json"
NEVER = "0 0 0 1 1 *"
# Timers the runner keeps quiet: only the watchdog runs, as it would in Azure after a crash.
QUIET_SCHEDULES = {sync.schedule_setting: NEVER for sync in SYNCS} | {
    name: NEVER
    for name in (
        "GP_SWEEP_SCHEDULE",
        "RSS_SUBSCRIPTIONS_SCHEDULE",
        "RSS_SWEEP_SCHEDULE",
        "BILLING_RECONCILIATION_SCHEDULE",
        "BILLING_REPORTING_SCHEDULE",
        "SALESFORCE_PIPELINE_REPORTING_SCHEDULE",
        "GP_PAYMENT_STATUS_SCHEDULE",
        "GP_CUSTOMERS_SCHEDULE",
    )
}
WATCHDOG_EVERY_MINUTE = "0 */1 * * * *"


@dataclass(frozen=True)
class Ports:
    azurite: int = field(default_factory=services.free_port)
    azurite_table: int = field(default_factory=services.free_port)
    servicebus: int = field(default_factory=services.free_port)
    servicebus_admin: int = field(default_factory=services.free_port)
    dataverse: int = field(default_factory=services.free_port)
    gp: int = field(default_factory=services.free_port)
    host: int = field(default_factory=services.free_port)


@dataclass
class ChaosWorld:
    """The running services, what the hub was told about them, and the runner's log of what it did to them."""

    root: Path
    ports: Ports
    settings: dict[str, str]
    sql_folder: Path
    emulator_admin: bool  # whether this emulator has the duplicate-delivery switch (``--admin-port``)
    running: dict[str, services.RunningService] = field(default_factory=dict)
    specs: dict[str, services.ServiceSpec] = field(default_factory=dict)
    done: dict[str, int] = field(default_factory=dict)  # "host kills", "Azurite restarts", ...

    @property
    def host_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.host}"

    @property
    def dataverse_url(self) -> str:
        return f"https://127.0.0.1:{self.ports.dataverse}"

    @property
    def gp_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.gp}"

    @property
    def emulator_admin_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.servicebus_admin}"

    @property
    def ca_bundle(self) -> Path:
        return self.root / "certs" / "local-ca.pem"

    @property
    def storage(self) -> str:
        return self.settings["StagingStorage"]

    @property
    def function_key(self) -> str:
        return self.settings["LOCAL_FUNCTION_KEY"]

    def start(self, name: str) -> None:
        self.running[name] = services.start(self.specs[name])

    def kill_host(self) -> None:
        """SIGKILL the host mid-work (no invocation finishes, no message is settled), then start it again."""
        host = self.running["functions-host"]
        host.process.kill()
        host.process.wait(10)
        self.start("functions-host")
        self.done["host kills"] = self.done.get("host kills", 0) + 1

    def restart(self, *names: str, count_as: str) -> None:
        """Stop ``names`` (SIGTERM, then SIGKILL) and start them again over the same data."""
        for name in names:
            self.running[name].stop()
        for name in names:
            self.start(name)
        self.done[count_as] = self.done.get(count_as, 0) + 1

    def stop(self) -> None:
        for service in reversed(list(self.running.values())):
            service.stop()


def emulator_has_admin_port() -> bool:
    """Whether this checkout's emulator takes ``--admin-port`` (its duplicate-delivery switch)."""
    shown = subprocess.run(
        [sys.executable, "-m", "localdev.servicebus_emulator", "--help"],
        capture_output=True,
        text=True,
        check=False,
        cwd=services.REPO,
    )
    return "--admin-port" in shown.stdout


def _directory(path: Path, tenant: str, client: str, secret: str) -> None:
    client_entry = {"client_id": client, "client_secret": secret, "display_name": "Hub (chaos)", "roles": {}}
    path.write_text(json.dumps({"tenant_id": tenant, "clients": [client_entry], "resources": []}))


def _settings(
    root: Path, ports: Ports, sql_url: str, tenant: str, client: str, secret: str
) -> dict[str, str]:
    storage = services.azurite_connection_string(ports.azurite, ports.azurite_table)
    dataverse = f"https://127.0.0.1:{ports.dataverse}"
    suffix = uuid.uuid4().hex[:8]
    return {
        **QUIET_SCHEDULES,
        "WATCHDOG_SCHEDULE": WATCHDOG_EVERY_MINUTE,
        "FUNCTIONS_WORKER_RUNTIME": "python",
        "AzureWebJobsStorage": storage,
        "StagingStorage": storage,
        "ServiceBusConnection": services.servicebus_connection_string(ports.servicebus),
        "STAGING_CONTAINER": f"chaos-staging-{suffix}",
        "STATE_CONTAINER": f"chaos-state-{suffix}",
        "AUDIT_CONTAINER": f"chaos-audit-{suffix}",
        "STATE_TABLE_PREFIX": f"chaos{suffix}",
        "SYNC_REQUESTS_QUEUE": "sync-requests",
        "BATCH_LOADS_QUEUE": "batch-loads",
        "GP_POSTINGS_QUEUE": "gp-postings",
        "DATAVERSE_EVENTS_QUEUE": "dataverse-events",
        "LEAD_CAPTURES_QUEUE": "lead-captures",
        "RUN_EVENTS_TOPIC": "run-events",
        "RSS_SUBMISSIONS_QUEUE": "rss-submissions",
        "DATAVERSE_URL": dataverse,
        "DATAVERSE_TENANT_ID": tenant,
        "DATAVERSE_CLIENT_ID": client,
        "ENTRA_AUTHORITY_HOST": dataverse,
        "LOCAL_CA_BUNDLE": str(root / "certs" / "local-ca.pem"),
        "SECRET_DATAVERSE_CLIENT_SECRET": secret,
        "LOCAL_FUNCTION_KEY": secrets.token_urlsafe(24),
        "LOCAL_MASTER_KEY": secrets.token_urlsafe(24),
        "LOCAL_TELEMETRY_FOLDER": str(root / "telemetry"),
        "PYTHON_ENABLE_OPENTELEMETRY": "true",
        "PYTHON_THREADPOOL_THREAD_COUNT": "32",  # as infra/app/api.bicep sets it
        "EDW_SQL_URL": sql_url,
        "GP_SMARTCONNECT_URL": f"http://127.0.0.1:{ports.gp}",
        "GP_SQL_URL": f"sqlite:///{root / 'gp'}/{{company}}.sqlite",
        "GP_COMPANIES": "TOWNE,ENC,UPP",
        # Seconds apart rather than minutes, so a request refused under the faults comes back within the run.
        "RETRY_FIRST_DELAY_SECONDS": "2",
        "RETRY_MAX_DELAY_SECONDS": "20",
        "API_RATE_LIMIT_PER_MINUTE": "10000",
    }


def _specs(root: Path, ports: Ports, emulator_admin: bool) -> list[services.ServiceSpec]:
    emulator_args = ["--port", str(ports.servicebus), "--config", str(SERVICE_BUS_CONFIG)]
    emulator_args += ["--data", str(root / "servicebus")]
    if emulator_admin:
        emulator_args += ["--admin-port", str(ports.servicebus_admin)]
    gp_args = ["--port", str(ports.gp), "--data", str(root / "gp")]
    gp_args += [argument for company in GP_COMPANIES for argument in ("--company", company)]
    return [
        services.azurite(ports.azurite, root / "azurite"),
        services.azurite_table(ports.azurite_table, root / "azurite"),
        services.python_module(
            "servicebus-emulator", "localdev.servicebus_emulator", ports.servicebus, emulator_args,
            root / "logs" / "servicebus-emulator.log",
        ),
        services.python_module(
            "sandbox", "localdev.sandbox", ports.dataverse,
            ["--port", str(ports.dataverse), "--data", str(root / "sandbox"), "--certs", str(root / "certs"),
             "--directory", str(root / "directory.json")],
            root / "logs" / "sandbox.log",
        ),
        services.python_module("sandbox-gp", "localdev.sandbox_gp", ports.gp, gp_args, root / "logs" / "sandbox-gp.log"),
        services.python_module(
            "functions-host", "localdev.functions_host", ports.host,
            ["--app-dir", str(services.REPO), "--port", str(ports.host), "--settings", str(root / "host.settings.json")],
            root / "logs" / "host.log",
        ),
    ]  # fmt: skip


def _prepare_storage(settings: dict[str, str]) -> None:
    """The containers and tables Bicep (and ``make run``) create before the host starts."""
    blob = BlobServiceClient.from_connection_string(settings["StagingStorage"])
    for container in (
        settings["STAGING_CONTAINER"],
        settings["STATE_CONTAINER"],
        settings["AUDIT_CONTAINER"],
    ):
        BlobStore(blob, container).ensure_container()
    tables = TableServiceClient.from_connection_string(settings["StagingStorage"])
    prefix = settings["STATE_TABLE_PREFIX"]
    for table in (*StateTableNames.with_prefix(prefix).names, f"{prefix}Budgets"):
        tables.create_table_if_not_exists(table)


@contextmanager
def chaos_world(
    root: Path, sql_url: str, sql_folder: Path, extra_settings: Mapping[str, str] | None = None
) -> Iterator[ChaosWorld]:
    """Start the world in ``root`` over the sandbox SQL Server at ``sql_url`` (the host's settings with
    ``extra_settings`` on top); stop it all at the end."""
    ports = Ports()
    server_certificate(root / "certs")
    tenant, client, secret = str(uuid.uuid4()), str(uuid.uuid4()), secrets.token_urlsafe(24)
    _directory(root / "directory.json", tenant, client, secret)
    settings = _settings(root, ports, sql_url, tenant, client, secret) | dict(extra_settings or {})
    (root / "host.settings.json").write_text(json.dumps({"IsEncrypted": False, "Values": settings}))
    seed_world_chart(root / "gp", sql_folder)
    seed_world_customers(root / "gp", sql_folder)
    admin = emulator_has_admin_port()
    world = ChaosWorld(root, ports, settings, sql_folder, admin)
    world.specs = {spec.name: spec for spec in _specs(root, ports, admin)}
    try:
        for name in world.specs:
            if name == "functions-host":
                _prepare_storage(settings)
            world.start(name)
        yield world
    finally:
        world.stop()
