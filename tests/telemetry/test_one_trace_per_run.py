"""One trace per run, on the real app in the local host: from the HTTP call or the timer to every load.

The host writes its telemetry with the OpenTelemetry SDK's own exporters to
files (``LOCAL_TELEMETRY_FOLDER``), as ``make run`` does; these tests read
them. (The issue asks for an in-memory exporter: the host runs as its own
process here, as the Functions host does, so the test reads the SDK's file
exporter instead of a list in another process's memory.)
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from localdev.trace_tree import LOGS_FILE, METRICS_FILE, SPANS_FILE, SpanLine
from shared.telemetry import names
from tests.fixtures.dataverse_sandbox import DataverseSandbox
from tests.fixtures.hub_host import FUNCTION_KEY, MASTER_KEY, HubHost
from tests.telemetry.telemetry_world import (
    finished,
    logs_of,
    named,
    points_when,
    spans_when,
    value_of,
)

pytestmark = pytest.mark.services
STREAM = "master_customer_sites"  # 12 sandbox sites, staged 5 a batch below: three batches


@pytest.mark.slow(25)
@pytest.mark.hub_settings({"SYNC_BATCH_ROWS": "5"})
def test_an_api_started_sync_is_one_trace_from_the_http_call_to_every_dataverse_batch(
    hub_host: HubHost,
) -> None:
    """...and nothing it exported, with two keyed calls besides, carries a secret."""
    with hub_host.client(key=None) as anonymous:
        assert anonymous.get("/api/v1/syncs", params={"code": "not-the-key"}).status_code == 401
        assert anonymous.get("/api/v1/syncs", params={"code": FUNCTION_KEY}).status_code == 200
    with hub_host.client() as client:
        answer = client.post(f"/api/v1/syncs/{STREAM}", json={"mode": "full"})
        assert answer.status_code == 202, answer.text
        run = finished(client, answer, hub_host)
    batch_count = run["batches"]["expected"]
    assert batch_count >= 2, run
    folder = hub_host.telemetry

    spans = spans_when(folder, lambda found: len(named(found, names.SPAN_BATCH_LOAD)) >= batch_count)
    http = [
        s
        for s in named(spans, names.SPAN_HTTP_REQUEST)
        if s.attributes.get(names.FUNCTION_NAME) == "start_sync"
    ]
    assert len(http) == 1
    trace_id = http[0].trace_id
    in_trace = [span for span in spans if span.trace_id == trace_id]
    (sync_request,) = named(in_trace, names.SPAN_SYNC_REQUEST)
    (extraction,) = named(in_trace, names.SPAN_EXTRACTION)
    loads = named(in_trace, names.SPAN_BATCH_LOAD)
    batches = named(in_trace, names.SPAN_DATAVERSE_BATCH)
    assert sync_request.attributes[names.RUN_ID] == run["id"]
    assert extraction.attributes[names.STREAM] == STREAM
    assert len({load.attributes[names.BATCH_ID] for load in loads}) == batch_count
    assert {load.attributes[names.RUN_ID] for load in loads} == {run["id"]}
    assert sum(int(b.attributes[names.RECORDS]) for b in batches) >= run["load"]["upserted"] > 0
    assert named(in_trace, names.SPAN_SQL_QUERY), "the extraction's SQL queries are in the trace"
    # Each span hangs off one in the trace: the transaction view draws one tree.
    ids = {span.span_id for span in in_trace}
    assert all(span.parent_id in ids for span in in_trace if span is not http[0])

    by_stage = points_when(
        folder,
        names.ROWS_MOVED,
        lambda points: any(p["attributes"].get(names.STREAM) == STREAM for p in points),
    )
    shown = {
        p["attributes"][names.ROW_STAGE]: value_of(p)
        for p in by_stage
        if p["attributes"][names.STREAM] == STREAM
    }
    extract, load = run["extract"], run["load"]
    expected = {
        stage: extract[stage] for stage in ("read", "valid", "quarantined", "skipped", "unchanged", "staged")
    }
    expected["loaded"] = load["upserted"] + load["created"] + load["updated"] + load["deleted"]
    expected["rejected"] = load["rejected"] + load["conflicts"] + load["notFound"]
    assert shown == expected
    (settled,) = [
        p for p in points_when(folder, names.RUNS_SETTLED, bool) if p["attributes"][names.STREAM] == STREAM
    ]
    assert settled["attributes"][names.OUTCOME] == run["status"] and value_of(settled) == 1

    drawn = subprocess.run(
        [sys.executable, "-m", "localdev", "trace", run["id"]],
        env={**os.environ, **hub_host.settings},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    assert f"trace {trace_id.removeprefix('0x')}" in drawn.replace("0x", "") or trace_id in drawn
    for name in (
        names.SPAN_HTTP_REQUEST,
        names.SPAN_SYNC_REQUEST,
        names.SPAN_EXTRACTION,
        names.SPAN_BATCH_LOAD,
    ):
        assert any(line.strip().startswith(name) and "█" in line for line in drawn.splitlines()), drawn

    _assert_no_secret_exported(hub_host)

    logs = [log for log in logs_of(folder) if log.get("attributes", {}).get(names.RUN_ID) == run["id"]]
    assert logs, "the run's log lines carry its id as a custom dimension"
    assert all(log["attributes"].get(names.INVOCATION_ID) for log in logs)


@pytest.mark.slow(25)
@pytest.mark.hub_settings({"MASTER_CUSTOMER_SITES_SCHEDULE": "*/2 * * * * *"})
def test_a_timer_started_sync_is_one_trace_from_the_timer_to_its_loads(hub_host: HubHost) -> None:
    folder = hub_host.telemetry

    def loaded(found: list) -> bool:
        timers = [
            s
            for s in named(found, names.SPAN_TIMER)
            if s.attributes.get(names.FUNCTION_NAME) == "master_customer_sites"
        ]
        return any(
            span.trace_id in {t.trace_id for t in timers} for span in named(found, names.SPAN_BATCH_LOAD)
        )

    spans = spans_when(folder, loaded, seconds=60)
    load = next(
        span
        for span in named(spans, names.SPAN_BATCH_LOAD)
        if any(t.trace_id == span.trace_id for t in named(spans, names.SPAN_TIMER))
    )
    in_trace = [span for span in spans if span.trace_id == load.trace_id]
    (timer,) = named(in_trace, names.SPAN_TIMER)
    assert timer.parent_id is None, "a timer occurrence starts its own trace"
    (queued,) = named(in_trace, names.SPAN_QUEUE_RUN)
    assert queued.attributes[names.TRIGGER] == "timer"
    (request,) = named(in_trace, names.SPAN_SYNC_REQUEST)
    assert (
        request.attributes[names.RUN_ID] == queued.attributes[names.RUN_ID] == load.attributes[names.RUN_ID]
    )
    assert named(in_trace, names.SPAN_EXTRACTION) and named(in_trace, names.SPAN_DATAVERSE_BATCH)


@pytest.mark.slow(60)
def test_a_load_that_fails_for_now_shows_as_a_failed_span_with_its_error_class_then_the_run_settles(
    hub_host: HubHost, dataverse_sandbox: DataverseSandbox
) -> None:
    folder = hub_host.telemetry
    dataverse_sandbox.outage(None)
    try:
        with hub_host.client() as client:
            answer = client.post(f"/api/v1/syncs/{STREAM}", json={"mode": "full"})
            assert answer.status_code == 202, answer.text

            def failed_load(found: list[SpanLine]) -> bool:
                return any(span.status == "ERROR" for span in named(found, names.SPAN_BATCH_LOAD))

            spans = spans_when(folder, failed_load, seconds=120)
            dataverse_sandbox.outage(0)
            run = finished(client, answer, hub_host, seconds=120)
    finally:
        dataverse_sandbox.outage(0)
    failed = [span for span in named(spans, names.SPAN_BATCH_LOAD) if span.status == "ERROR"]
    assert {span.attributes[names.ERROR_CLASS] for span in failed} <= {"transient", "throttled"}
    assert {span.attributes[names.RUN_ID] for span in failed} == {run["id"]}
    assert run["status"] in ("succeeded", "partially_failed"), run


def _secrets(settings: dict[str, str]) -> dict[str, str]:
    """Every secret value the host was given, by where it came from."""
    found = {
        "function key": FUNCTION_KEY,
        "master key": MASTER_KEY,
        "Dataverse client secret": settings["SECRET_DATAVERSE_CLIENT_SECRET"],
    }
    for setting in ("ServiceBusConnection", "AzureWebJobsStorage"):
        for key in re.findall(r"(?:SharedAccessKey|AccountKey)=([^;]+)", settings[setting]):
            found[f"{setting} key"] = key
    return found


def _assert_no_secret_exported(host: HubHost) -> None:
    """No key, client secret, account key or token in any exported span, metric or log line."""
    folder = host.telemetry
    exported = "".join(
        (folder / name).read_text(encoding="utf-8") for name in (SPANS_FILE, METRICS_FILE, LOGS_FILE)
    )
    assert len(exported) > 10_000, "the scan reads what the host exported"
    for source, secret in _secrets(host.settings).items():
        assert secret not in exported, f"the {source} is in the exported telemetry"
    assert not re.search(r"Bearer\s+ey", exported), "an access token is in the exported telemetry"
    assert "code=" not in exported, "a function key passed as ?code= reached an attribute"
