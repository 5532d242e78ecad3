"""The chaos run's work, asked of the hub as Power Automate asks it: start, then poll until final.

One sync of the ``worked_hours`` stream (``POST /api/v1/syncs/worked_hours``,
then ``GET /api/v1/runs/{id}``) and a batch of billing statements posted to GP
(seeded in Dataverse as PowerBill writes them, then ``POST /api/v1/gp/postings``
each, polled at its status URL). The host is killed under these calls, so each
call is retried as a flow's HTTP action retries: on a dropped connection or a
5xx, until its deadline. Nothing is resubmitted that an operator would not.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

import httpx

from localdev.billing_statements import SeededStatement, seed_billing_statements
from localdev.chaos.world import ChaosWorld
from shared.composition import build_hub
from shared.connectors.great_plains.ledger import GpLedger
from shared.settings import load_settings

STREAM = "worked_hours"
_RUN_NAMED = re.compile(r"as run (\S+?);")
_CALL_PAUSE_SECONDS = 1.0


class HubUnreachableError(RuntimeError):
    """The hub did not answer a call before its deadline."""


@dataclass
class HubApi:
    """The hub's API over HTTP with the function key, each call retried while the host is down or failing."""

    world: ChaosWorld
    call_seconds: float = 180.0

    def call(self, method: str, path: str, body: object | None = None) -> httpx.Response:
        deadline = time.monotonic() + self.call_seconds
        headers = {"x-functions-key": self.world.function_key}
        last = "no answer"
        while time.monotonic() < deadline:
            try:
                answer = httpx.request(
                    method, self.world.host_url + path, json=body, headers=headers, timeout=30
                )
            except httpx.TransportError as error:
                last = type(error).__name__
            else:
                if answer.status_code < 500:
                    return answer
                last = f"HTTP {answer.status_code}"
            time.sleep(_CALL_PAUSE_SECONDS)
        raise HubUnreachableError(f"{method} {path}: {last} for {self.call_seconds:.0f} s")


def seed_statements(world: ChaosWorld, count: int) -> list[SeededStatement]:
    """Billing statements in the sandbox Dataverse, as PowerBill leaves them before a close."""
    hub = build_hub(load_settings(world.root / "host.settings.json"))
    if hub.edw is None or hub.gp_databases is None:
        raise RuntimeError("the chaos world's hub has no EDW or GP databases")
    try:
        return seed_billing_statements(hub.dataverse, hub.edw, GpLedger(hub.gp_databases.engine).chart, count)
    finally:
        hub.hosts.close()


def start_sync(api: HubApi) -> str:
    """Start the stream's sync; its run id (a 409 after a lost answer names the run the first POST began)."""
    answer = api.call("POST", f"/api/v1/syncs/{STREAM}", {})
    if answer.status_code == 409:
        named = _RUN_NAMED.search(answer.json().get("detail", ""))
        if named:
            return named.group(1)
    answer.raise_for_status()
    return str(answer.json()["id"])


def post_statement(api: HubApi, statement_id: str) -> str:
    """Ask the hub to post the statement to GP; the posting's id (a second POST gets the same one back)."""
    answer = api.call("POST", "/api/v1/gp/postings", {"statementId": statement_id})
    answer.raise_for_status()
    return str(answer.json()["id"])


def run_status(api: HubApi, run_id: str) -> str:
    return str(api.call("GET", f"/api/v1/runs/{run_id}").json()["status"])


def posting_status(api: HubApi, posting_id: str) -> str:
    return str(api.call("GET", f"/api/v1/gp/postings/{posting_id}").json()["status"])
