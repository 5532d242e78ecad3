"""Bulk API 2.0 query jobs: the large reads (backfills, first loads) in a handful of calls.

A REST ``queryAll`` costs one API call per 2,000 records; a query job costs
one call to create it, a few to poll it and one per result set (up to
``max_records`` rows of CSV each), so a read of many thousand records spends
far less of the org's daily allowance. As Salesforce documents it
(developer.salesforce.com/docs/atlas.en-us.api_asynch.meta/api_asynch/query_create_job.htm,
.../query_get_one_job.htm, .../query_get_job_results.htm): ``POST /jobs/query``
with ``operation`` ``queryAll`` (deleted records too, as the REST path reads)
and the SOQL; ``GET /jobs/query/{id}`` until ``state`` is ``JobComplete``
(``Failed`` or ``Aborted`` end the read); ``GET .../results?maxRecords=N``,
then ``&locator=<Sforce-Locator>`` until the header says ``null``. CSV has no
null: an empty cell is read as None, and the row model parses the rest as it
parses REST's JSON, so both paths land the same records.
"""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from shared.connectors.salesforce.rest import SalesforceRest
from shared.errors import ErrorClass, HubError

DONE, FAILED = "JobComplete", ("Failed", "Aborted")


@dataclass(frozen=True)
class BulkSettings:
    """When reads go through Bulk API 2.0 (``SALESFORCE_BULK_THRESHOLD`` records and up) and how it polls."""

    threshold: int
    max_records: int = 50_000
    poll_seconds: float = 2.0
    max_wait_seconds: float = 900.0


class BulkQuery:
    def __init__(
        self, rest: SalesforceRest, settings: BulkSettings, sleep: Callable[[float], None] = time.sleep
    ) -> None:
        self._rest = rest
        self.settings = settings
        self._sleep = sleep

    def query(self, soql: str, *, include_deleted: bool = False) -> Iterator[list[dict[str, Any]]]:
        """The query's records, one result set at a time."""
        jobs = f"{self._rest.root}/jobs/query"
        body = {"operation": "queryAll" if include_deleted else "query", "query": soql}
        job = self._rest.call("POST", jobs, "bulk query job", body=body).json()
        self._wait(f"{jobs}/{job['id']}")
        locator: str | None = None
        while True:
            url = f"{jobs}/{job['id']}/results?maxRecords={self.settings.max_records}"
            answer = self._rest.call("GET", url + (f"&locator={locator}" if locator else ""), "bulk results")
            yield [
                {name: value if value != "" else None for name, value in row.items()}
                for row in csv.DictReader(io.StringIO(answer.text))
            ]
            locator = answer.headers.get("Sforce-Locator")
            if not locator or locator == "null":
                return

    def _wait(self, job_url: str) -> None:
        deadline = time.monotonic() + self.settings.max_wait_seconds
        while True:
            state = self._rest.call("GET", job_url, "bulk job state").json()["state"]
            if state == DONE:
                return
            if state in FAILED:
                raise HubError(
                    f"Salesforce's Bulk API 2.0 query job ended {state}",
                    error_class=ErrorClass.TRANSIENT,
                    context={"system": "salesforce", "operation": "bulk query job"},
                )
            if time.monotonic() > deadline:
                raise HubError(
                    f"Salesforce's Bulk API 2.0 query job still {state} after {self.settings.max_wait_seconds:.0f} s",
                    error_class=ErrorClass.TRANSIENT,
                    context={"system": "salesforce", "operation": "bulk query job"},
                    retry_after=self.settings.max_wait_seconds,
                )
            self._sleep(self.settings.poll_seconds)
