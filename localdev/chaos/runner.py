"""One chaos run: source, world, schedule, workload, the wait for every piece of work to settle, the proof.

The schedule's events fire when the stream's records in Dataverse reach their
share; events the stream never reaches (it stalled, or finished early) fire
once the run is final or nothing moved for ``STALL_SECONDS``, so every planned
fault is injected. The request faults stay on until the work is final (or a
deadline the runner prints), so the GP postings, which outlast the stream,
meet them too; then the switches are turned off and the runner waits, up to
a second deadline, for whatever is still retrying. It resubmits nothing.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

from azure.data.tables import TableServiceClient
from azure.storage.blob import BlobServiceClient

from localdev.chaos import proof, workload
from localdev.chaos.faults import Switchboard
from localdev.chaos.report import Injected, table
from localdev.chaos.schedule import Event, EventKind, Schedule
from localdev.chaos.source import build_source, expected_records
from localdev.chaos.world import ChaosWorld, chaos_world
from localdev.sandbox.app import DATABASE as DATAVERSE_DATABASE
from localdev.servicebus_emulator.__main__ import DATABASE as EMULATOR_DATABASE

POLL_SECONDS = 1.0
POSTERS = 8
STALL_SECONDS = 120.0
WAIT_BASE_SECONDS = 300.0
WAIT_SECONDS_PER_RECORD = 1 / 500


def loaded_records(world: ChaosWorld) -> int:
    """The stream's records in the sandbox Dataverse now, counted in its file."""
    path = world.root / "sandbox" / DATAVERSE_DATABASE
    try:
        with closing(proof.open_read_only(path)) as connection:
            (count,) = connection.execute(
                "SELECT COUNT(*) FROM rows WHERE entity = ?", (proof.TARGET_ENTITY,)
            ).fetchone()
            return int(count)
    except sqlite3.Error:
        return 0


def say(text: str) -> None:
    print(f"{datetime.now(UTC):%H:%M:%S} {text}", flush=True)


def fire(world: ChaosWorld, board: Switchboard, schedule: Schedule, event: Event) -> None:
    say(f"injecting: {event.kind}")
    if event.kind is EventKind.KILL_HOST:
        world.kill_host()
    elif event.kind is EventKind.RESTART_AZURITE:
        world.restart("azurite", "azurite-table", count_as="Azurite restarts")
    else:
        board.remember_emulator_counts()
        world.restart("servicebus-emulator", count_as="emulator restarts")
        board.rearm_emulator(schedule)


def play(
    world: ChaosWorld, board: Switchboard, schedule: Schedule, records: int, run_finished: Callable[[], bool]
) -> None:
    """Fire each event at its share of the records loaded, once the world has loaded more since the last
    (so two events never meet the same moment), or once the run cannot reach it."""
    pending = list(schedule.events)
    last_count, last_moved, count_at_event = -1, time.monotonic(), -1
    while pending:
        count = loaded_records(world)
        if count != last_count:
            last_count, last_moved = count, time.monotonic()
        stalled = time.monotonic() - last_moved > STALL_SECONDS
        due = pending[0].at <= count / records and count > count_at_event
        if due or stalled or run_finished():
            say(f"{count:,} of {records:,} records loaded")
            fire(world, board, schedule, pending.pop(0))
            last_moved, count_at_event = time.monotonic(), count
        time.sleep(POLL_SECONDS)


def settle(api: workload.HubApi, run_id: str, posting_ids: list[str], seconds: float, faults: str) -> bool:
    """Poll the run and the postings until all are final or ``seconds`` pass; whether all are."""
    deadline = time.monotonic() + seconds
    say(f"faults {faults}; waiting for the run and {len(posting_ids)} postings to be final until "
        f"{datetime.now(UTC) + timedelta(seconds=seconds):%H:%M:%S} UTC")  # fmt: skip
    open_postings = set(posting_ids)
    run_open = True
    while time.monotonic() < deadline:
        run_open = run_open and workload.run_status(api, run_id) not in proof.FINAL_RUN
        open_postings = {
            posting
            for posting in open_postings
            if workload.posting_status(api, posting) not in proof.FINAL_POSTING
        }
        if not run_open and not open_postings:
            say("the run and every posting are final")
            return True
        time.sleep(5 * POLL_SECONDS)
    say(f"deadline passed: run {'open' if run_open else 'final'}, {len(open_postings)} postings open")
    return False


def run_chaos(
    root: Path, records: int, schedule: Schedule, statements: int, batch_rows: int | None = None
) -> bool:
    """The whole run in ``root``; whether every proof line held (the table is printed).

    ``batch_rows`` caps the stream's staged batches (``SYNC_BATCH_ROWS``): a small run
    needs small batches for its events to meet the run mid-load.
    """
    started = time.monotonic()
    for line in schedule.lines():
        print(line)
    say(f"building the source: {records:,} payroll rows")
    sql_folder = root / "sql"
    sql_url = build_source(sql_folder, records, schedule.seed, world_sites=max(20, 2 * statements))
    seconds: dict[str, float] = {"setup": 0.0}
    extra = {"SYNC_BATCH_ROWS": str(batch_rows)} if batch_rows else {}
    with chaos_world(root, sql_url, sql_folder, extra) as world:
        api = workload.HubApi(world)
        seeded = workload.seed_statements(world, statements)
        say(f"world up in {root}; {len(seeded)} billing statements seeded")
        seconds["setup"] = time.monotonic() - started
        board = Switchboard(world)
        board.arm(schedule)
        run_id = workload.start_sync(api)
        say(f"sync started: run {run_id}")
        # The statements go to GP while the stream runs, a few at once, as parallel flow runs send them.
        with ThreadPoolExecutor(POSTERS) as posters:
            posted = [posters.submit(workload.post_statement, api, item.statement_id) for item in seeded]
            play(
                world,
                board,
                schedule,
                records,
                lambda: workload.run_status(api, run_id) in proof.FINAL_RUN,
            )
            posting_ids = [future.result() for future in posted]
        say(f"{len(posting_ids)} statements asked to post to GP")
        # The schedule ends once its events are over and the work it was given is final: until then
        # every request may still fail. Then the switches go off and the stragglers get their time.
        wait = WAIT_BASE_SECONDS + records * WAIT_SECONDS_PER_RECORD
        settle(api, run_id, posting_ids, wait, "on")
        board.disarm(schedule)
        seconds["faults"] = time.monotonic() - started - seconds["setup"]
        settle(api, run_id, posting_ids, wait, "off")
        seconds["settle"] = time.monotonic() - started - seconds["setup"] - seconds["faults"]
        injected = [
            Injected(f"{switch.system} {switch.fault} ({switch.fraction:.1%})", board.injected(switch))
            for switch in schedule.switches
        ] + [
            Injected(what, world.done.get(what, 0))
            for what in ("host kills", "Azurite restarts", "emulator restarts")
        ]
        lines = prove(world, len(seeded))
    seconds["total"] = time.monotonic() - started
    print(table(injected, lines, seconds), flush=True)
    return all(line.held for line in lines)


def prove(world: ChaosWorld, statements: int) -> list[proof.ProofLine]:
    """Every proof line, from the stores the world left (the services still up for Azurite's)."""
    say("proving, by the runner's own reads")
    tables = TableServiceClient.from_connection_string(world.storage)
    prefix = world.settings["STATE_TABLE_PREFIX"]
    postings = proof.documents(tables, f"{prefix}Postings")
    logs = [*sorted((world.root / "logs").rglob("*")), *sorted((world.root / "telemetry").rglob("*"))]
    logs += sorted((world.root / "azurite").glob("*.log"))
    secrets = [
        world.settings[name]
        for name in ("SECRET_DATAVERSE_CLIENT_SECRET", "LOCAL_FUNCTION_KEY", "LOCAL_MASTER_KEY")
    ]
    return [
        proof.target_equals_source(
            expected_records(world.sql_folder),
            proof.target_records(world.root / "sandbox" / DATAVERSE_DATABASE),
        ),
        proof.all_final("run", proof.documents(tables, f"{prefix}Runs"), proof.FINAL_RUN, 1),
        proof.all_final("GP posting", postings, proof.FINAL_POSTING, statements),
        proof.gp_documents_once(world.root / "gp", postings, statements),
        proof.no_dead_letters(
            world.root / "servicebus" / EMULATOR_DATABASE,
            BlobServiceClient.from_connection_string(world.storage),
            world.settings["STATE_CONTAINER"],
        ),
        proof.no_secret_written([path for path in logs if path.is_file()], secrets),
    ]
