"""``make run``: the whole hub on one machine, every dependency local, watched, stopped together on Ctrl-C.

Starts Azurite (Blob and Table), the Service Bus emulator and the sandbox systems (identity and
Dataverse; GP's SmartConnect with the company databases TOWNE, ENC, UPP and
TEST, their charts seeded for the sandbox world's sites), prepares what
Bicep would have created in Azure (blob containers, tables), then runs the Functions
app on the local host (or under Core Tools with ``--core-tools``). Ports and
data folders are fixed so a developer's tools and ``local.settings.json`` can
point at them; the data survives a restart. ``localdev/supervisor.py`` watches
the children: one that dies stops the rest, and Ctrl-C lets the host finish its
running invocations (up to the host's ``DRAIN_SECONDS``) before everything stops.
"""

from __future__ import annotations

import argparse
import json
import shutil
from dataclasses import replace

from azure.data.tables import TableServiceClient
from azure.storage.blob import BlobServiceClient

from localdev import services
from localdev.functions_host.host import DRAIN_SECONDS
from localdev.job_profile_mappings import seed_job_profile_mappings
from localdev.local_ca import server_certificate
from localdev.sandbox_gp.world_chart import COMPANIES as GP_COMPANIES
from localdev.sandbox_gp.world_chart import seed_world_chart
from localdev.sandbox_gp.world_customers import seed_world_customers
from localdev.sandbox_sql import build_sandbox
from localdev.sandbox_sql.build import is_current
from localdev.supervisor import Supervisor
from shared.composition import build_hub
from shared.platform.blob_store import BlobStore
from shared.settings import LOCAL_SETTINGS_FILE, load_settings

DATA = services.REPO / ".local"
CERTS = DATA / "certs"
SQL_SANDBOX = DATA / "sandbox-sql"
GP_DATA = DATA / "gp"
EXAMPLE_SETTINGS = services.REPO / "local.settings.json.example"
SERVICE_BUS_CONFIG = services.REPO / "localdev" / "servicebus_emulator" / "config.json"
SANDBOX_STEPS = services.REPO / "localdev" / "sandbox" / "dataverse" / "steps.json"

AZURITE_PORT = 10000
AZURITE_TABLE_PORT = 10002
SERVICE_BUS_PORT = 5672
SERVICE_BUS_ADMIN_PORT = 5673  # the emulator's fault switches (HTTP)
SANDBOX_PORT = 7081
GP_PORT = 7082
HOST_PORT = 7071
HOST_EXIT_SECONDS = 10  # after the drain: closing listeners and the thread pool, before SIGKILL


def local_world() -> list[services.ServiceSpec]:
    """The services the hub depends on, in start order."""
    return [
        services.azurite(AZURITE_PORT, DATA / "azurite"),
        services.azurite_table(AZURITE_TABLE_PORT, DATA / "azurite"),
        services.python_module(
            "servicebus-emulator",
            "localdev.servicebus_emulator",
            SERVICE_BUS_PORT,
            [
                "--port",
                str(SERVICE_BUS_PORT),
                "--config",
                str(SERVICE_BUS_CONFIG),
                "--data",
                str(DATA / "servicebus"),
                "--admin-port",
                str(SERVICE_BUS_ADMIN_PORT),
            ],
            DATA / "logs" / "servicebus-emulator.log",
        ),
        services.python_module(
            "sandbox",
            "localdev.sandbox",
            SANDBOX_PORT,
            [
                "--port",
                str(SANDBOX_PORT),
                "--data",
                str(DATA / "sandbox"),
                "--certs",
                str(CERTS),
                # Its service endpoint posts the registered steps' events to the emulator's queue.
                "--service-bus-connection",
                services.servicebus_connection_string(SERVICE_BUS_PORT),
                "--steps",
                str(SANDBOX_STEPS),
                # A pipeline of a few hundred leads and opportunities for the Salesforce streams.
                "--salesforce-seed",
                "18",
            ],
            DATA / "logs" / "sandbox.log",
        ),
        services.python_module(
            "sandbox-gp",
            "localdev.sandbox_gp",
            GP_PORT,
            ["--port", str(GP_PORT), "--data", str(GP_DATA)]
            + [argument for company in GP_COMPANIES for argument in ("--company", company)],
            DATA / "logs" / "sandbox-gp.log",
        ),
    ]


def functions_host(core_tools: bool) -> services.ServiceSpec:
    if core_tools:
        func = shutil.which("func")
        if func is None:
            raise services.ServiceFailedError("--core-tools asked for, but `func` is not on PATH")
        command = [func, "start", "--port", str(HOST_PORT)]
        return services.ServiceSpec(
            "functions-host",
            command,
            HOST_PORT,
            log_file=None,
            stop_seconds=DRAIN_SECONDS + HOST_EXIT_SECONDS,
        )
    spec = services.python_module(
        "functions-host",
        "localdev.functions_host",
        HOST_PORT,
        ["--app-dir", str(services.REPO), "--port", str(HOST_PORT), "--drain-seconds", str(DRAIN_SECONDS)],
        log_file=None,
    )
    return replace(spec, stop_seconds=DRAIN_SECONDS + HOST_EXIT_SECONDS)


def ensure_local_settings() -> None:
    """Start from the example on first run; later, add settings the example has gained, keeping yours."""
    if not LOCAL_SETTINGS_FILE.exists():
        shutil.copyfile(EXAMPLE_SETTINGS, LOCAL_SETTINGS_FILE)
        print(f"Created {LOCAL_SETTINGS_FILE.name} from {EXAMPLE_SETTINGS.name}")
        return
    mine = json.loads(LOCAL_SETTINGS_FILE.read_text(encoding="utf-8"))
    example = json.loads(EXAMPLE_SETTINGS.read_text(encoding="utf-8"))["Values"]
    missing = {name: value for name, value in example.items() if name not in mine.setdefault("Values", {})}
    if missing:
        mine["Values"].update(missing)
        LOCAL_SETTINGS_FILE.write_text(json.dumps(mine, indent=2) + "\n", encoding="utf-8")
        print(f"Added to {LOCAL_SETTINGS_FILE.name} from the example: {', '.join(sorted(missing))}")


def prepare_storage() -> None:
    """Create the containers and tables the hub's state lives in (in Azure, the hub creates its tables too)."""
    settings = load_settings()
    if settings.blob.connection_string is None:
        raise services.ServiceFailedError("locally, StagingStorage must be a connection string (Azurite)")
    service = BlobServiceClient.from_connection_string(settings.blob.connection_string)
    for container in (settings.staging_container, settings.state_container, settings.audit_container):
        BlobStore(service, container).ensure_container()
    tables = TableServiceClient.from_connection_string(settings.blob.connection_string)
    for name in (*settings.state_tables.names, settings.budget_table):
        tables.create_table_if_not_exists(name)


def seed_pilot_mappings() -> None:
    """The pilot sites' job-profile mappings in the sandbox Dataverse, once it answers."""
    hub = build_hub(load_settings())
    if hub.edw is None:
        return
    seeded = seed_job_profile_mappings(hub.dataverse, hub.edw)
    hub.hosts.close()
    mapped = ", ".join(f"{profile} → {code} ({site or 'every site'})" for profile, code, site in seeded)
    print(f"  bs_forecastjobprofilemapping: {mapped}")


def ensure_sql_sandbox() -> None:
    """First run, or a sandbox an older checkout built: seed the sandbox SQL Server (about 20 s)."""
    if is_current(SQL_SANDBOX):
        return
    if (SQL_SANDBOX / "TP_EDW.sqlite").exists():
        print("The sandbox SQL Server in .local/sandbox-sql predates today's tables: seeding it again ...")
    else:
        print("Seeding the sandbox SQL Server (TP_EDW, TP_LEGION, TP_STAGE) in .local/sandbox-sql ...")
    build_sandbox(SQL_SANDBOX)


def ensure_gp_chart() -> None:
    """Give sandbox GP an account for everything the world's statements post to, and a card per site."""
    counts = seed_world_chart(GP_DATA, SQL_SANDBOX)
    print(
        f"Sandbox GP chart in .local/gp: {', '.join(f'{c} {n}' for c, n in sorted(counts.items()))} accounts"
    )
    cards = seed_world_customers(GP_DATA, SQL_SANDBOX)
    print(f"Sandbox GP customers: {', '.join(f'{c} {n}' for c, n in sorted(cards.items()))}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m localdev.run", description=__doc__)
    parser.add_argument(
        "--core-tools",
        action="store_true",
        help="run the app under Azure Functions Core Tools (`func start`)",
    )
    arguments = parser.parse_args(argv)
    ensure_local_settings()
    server_certificate(CERTS)
    ensure_sql_sandbox()
    ensure_gp_chart()
    supervisor = Supervisor()

    def start_world() -> None:
        for spec in local_world():
            supervisor.start(spec)
            print(f"  {spec.name:<20} listening on 127.0.0.1:{spec.port}   (log: {spec.log_file})")
        print(f"  {'servicebus admin':<20} http://127.0.0.1:{SERVICE_BUS_ADMIN_PORT}/admin/faults")
        prepare_storage()
        seed_pilot_mappings()
        host = functions_host(arguments.core_tools)
        supervisor.start(host)
        print(f"  {host.name:<20} http://127.0.0.1:{host.port}/api/health   (its log follows)")

    return supervisor.run(start_world, "The hub is running. Ctrl-C stops everything.")


if __name__ == "__main__":
    raise SystemExit(main())
