"""What a Power Automate flow does with the hub, as a Locust user: start, poll, list, read, check GP.

Runs in the load virtualenv (``.load-venv``, Locust and its gevent), never in
the hub's: nothing here imports the hub. The runner (``python -m
localdev.load``) passes the host's key, the sandbox's sites and the month to
read through the environment. Every answer is recorded by its status: a 429
from the rate limiter is an expected answer (counted, not a failure); a 5xx or
a transport error is a failure. Each user starts a sync once, polls its
``Location`` as often as ``Retry-After`` allows (as a flow's "until" loop
does), and otherwise lists runs, reads the EDW and reads a GP posting's status.
"""

from __future__ import annotations

import json
import os
import random
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from locust import HttpUser, between, events, task

KEY = os.environ["HUB_LOAD_KEY"]
SITES = os.environ["HUB_LOAD_SITES"].split(",")
PERIOD = os.environ["HUB_LOAD_PERIOD"]  # yyyyMM with payroll in the sandbox
YEAR = PERIOD[:4]
STREAMS = ("master_customer_sites", "user_sites", "job_codes")
STATUSES: defaultdict[str, Counter[str]] = defaultdict(Counter)


@events.request.add_listener
def _tally(name: str, response: Any, exception: Exception | None, **_: Any) -> None:
    status = (
        "error" if exception is not None and response is None else str(getattr(response, "status_code", 0))
    )
    STATUSES[name][status] += 1


@events.quitting.add_listener
def _write_statuses(environment: Any, **_: Any) -> None:
    Path(os.environ["HUB_LOAD_STATUSES"]).write_text(json.dumps(STATUSES), encoding="utf-8")


class PowerAutomateFlow(HttpUser):
    wait_time = between(0.5, 2)

    def on_start(self) -> None:
        self.client.headers["x-functions-key"] = KEY
        self.run_url: str | None = None
        self.posting_id: str | None = None
        self._start_sync()
        with self.client.post(
            "/api/v1/gp/postings",
            json={"unitStatisticsPeriod": f"{PERIOD[:4]}-{PERIOD[4:]}"},
            name="StartGpPosting",
            catch_response=True,
        ) as answer:
            _judge(answer)
            if answer.status_code in (200, 202):
                self.posting_id = answer.json()["id"]

    def _start_sync(self) -> None:
        stream = random.choice(STREAMS)
        with self.client.post(
            f"/api/v1/syncs/{stream}", json={"mode": "incremental"}, name="StartSync", catch_response=True
        ) as answer:
            _judge(answer)
            if answer.status_code in (202, 409):
                self.run_url = answer.headers.get("Location") or self.run_url

    @task(6)
    def poll_run(self) -> None:
        if self.run_url is None:
            self._start_sync()
            return
        with self.client.get(self.run_url, name="GetRun", catch_response=True) as answer:
            _judge(answer)
            if answer.status_code == 200:  # finished: the flow moves on to its next run
                self.run_url = None

    @task(2)
    def list_runs(self) -> None:
        with self.client.get(
            "/api/v1/runs",
            params={"stream": random.choice(STREAMS), "top": "20"},
            name="ListRuns",
            catch_response=True,
        ) as answer:
            _judge(answer)

    @task(3)
    def read_edw(self) -> None:
        site = random.choice(SITES)
        read, params = random.choice(
            [
                ("payroll-actuals", {"site": site, "period": PERIOD}),
                ("scheduled-hours", {"site": site, "period": PERIOD}),
                ("budget-daily-detail", {"site": site, "period": PERIOD}),
                ("parking-rates", {"site": site, "year": YEAR}),
            ]
        )
        with self.client.get(
            f"/api/v1/edw/{read}", params=params, name=f"ReadEdw {read}", catch_response=True
        ) as answer:
            _judge(answer)

    @task(3)
    def gp_status(self) -> None:
        if self.posting_id is None:
            return
        with self.client.get(
            f"/api/v1/gp/postings/{self.posting_id}", name="GetGpPosting", catch_response=True
        ) as answer:
            _judge(answer)


def _judge(answer: Any) -> None:
    """Any documented answer below 500 is the hub's (429 included); a 5xx or no answer is a failure."""
    if answer.status_code == 0 or answer.status_code >= 500:
        answer.failure(f"HTTP {answer.status_code}")
    else:
        answer.success()
