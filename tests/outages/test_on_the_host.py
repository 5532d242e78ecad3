"""Outages on the real app in the local host: a worker killed mid-load.

Each ends the way the design promises: the run or posting reaches its final
state after the fault is gone, its status URL stops answering 202, nothing is
dead-lettered, and the target holds exactly what the source says.
"""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from shared.connectors.catalog import hub_streams
from shared.pipeline.stream import ReadWindow
from shared.sql.engines import sql_server_engine
from tests.fixtures.dataverse_sandbox import DataverseSandbox
from tests.fixtures.hub_host import HubHost

pytestmark = pytest.mark.services


def follow(client: httpx.Client, answer: httpx.Response, host: HubHost, seconds: float) -> httpx.Response:
    """Poll ``Location`` as a Power Automate flow does, until the answer is not 202."""
    deadline = time.monotonic() + seconds
    while answer.status_code == 202:
        assert time.monotonic() < deadline, f"never finished: {answer.text}\n{host.log()[-4000:]}"
        time.sleep(1)
        answer = client.get(answer.headers["Location"])
    return answer


def wait_for(condition: Any, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.5)


def source_keys(sql_url: str, stream_name: str) -> set[tuple[Any, ...]]:
    """What the stream's own read and transform say the target must hold, read straight from the source."""
    stream = hub_streams(sql_server_engine(sql_url, None, 300)).get(stream_name)
    keys = set()
    for page in stream.read(ReadWindow()):
        for row in page:
            record = stream.transform(stream.model.model_validate(row))
            if record is not None:
                keys.add(tuple(record[name] for name in stream.key))
    return keys


def dataverse_keys(sandbox: DataverseSandbox, entity_set: str, key: tuple[str, ...]) -> set[tuple[Any, ...]]:
    found = set()
    with sandbox.client() as client:
        url = f"{entity_set}?$select={','.join(key)}"
        while url:
            page = client.get(url, headers={"Prefer": "odata.maxpagesize=5000"}).json()
            found.update(tuple(row[name] for name in key) for row in page["value"])
            url = page.get("@odata.nextLink", "")
    return found


@pytest.mark.slow(60)
def test_a_worker_killed_mid_load_is_restarted_and_the_run_ends_with_every_source_row_in_dataverse(
    hub_host: HubHost, dataverse_sandbox: DataverseSandbox, hub_sql_sandbox: str
) -> None:
    dataverse_sandbox.throttle(1.0, retry_after=3, seed=5)  # every load waits: the run stays loading
    try:
        with hub_host.client() as client:
            answer = client.post("/api/v1/syncs/job_codes_by_site", json={})
            assert answer.status_code == 202, answer.text
            run_url = answer.headers["Location"]
            wait_for(lambda: client.get(run_url).json()["status"] == "loading", 60, "the run to load")
        hub_host.kill()
        hub_host.start_again()
    finally:
        dataverse_sandbox.throttle(0.0)

    with hub_host.client() as client:
        final = follow(client, client.get(run_url), hub_host, 180)
    assert final.status_code == 200
    run = final.json()
    assert run["status"] == "succeeded", run
    stream = hub_streams(sql_server_engine(hub_sql_sandbox, None, 300)).get("job_codes_by_site")
    wanted = source_keys(hub_sql_sandbox, "job_codes_by_site")
    assert wanted and wanted <= dataverse_keys(dataverse_sandbox, stream.target.entity_set, stream.key)
    assert run["load"]["upserted"] + run["load"]["created"] + run["load"]["updated"] >= len(wanted)
