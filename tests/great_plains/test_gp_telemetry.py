"""A GP posting is one trace too: the flow's HTTP call, the posting on the queue, each SmartConnect call."""

from __future__ import annotations

import pytest

from shared.composition import Hub
from shared.telemetry import names
from tests.fixtures.gp_sandbox import GpSandbox
from tests.fixtures.hub_host import HubHost
from tests.great_plains.gp_world import billing_day, expected, seed_chart, write_statements
from tests.telemetry.telemetry_world import finished, named, points_when, spans_when, value_of

pytestmark = pytest.mark.services


@pytest.mark.slow(20)
def test_a_statement_posting_is_one_trace_with_a_span_per_smartconnect_call(
    hub_host: HubHost, gp_sandbox: GpSandbox, gp_hub: Hub
) -> None:
    day = billing_day(1, first_site=7100)
    documents = expected(day)
    seed_chart(gp_sandbox, documents)
    write_statements(gp_hub, day)
    with hub_host.client() as client:
        answer = client.post("/api/v1/gp/postings", json={"statementId": day[0].statement_id})
        assert answer.status_code == 202, answer.text
        posting = finished(client, answer, hub_host, seconds=90)
    assert posting["status"] == "succeeded", posting
    folder = hub_host.telemetry

    def complete(found: list) -> bool:
        return len(named(found, names.SPAN_SMARTCONNECT)) >= len(documents) and bool(
            named(found, names.SPAN_GP_POSTING)
        )

    spans = spans_when(folder, complete)
    (http,) = [
        s
        for s in named(spans, names.SPAN_HTTP_REQUEST)
        if s.attributes.get(names.FUNCTION_NAME) == "start_gp_posting"
    ]
    in_trace = [span for span in spans if span.trace_id == http.trace_id]
    (posting_span,) = named(in_trace, names.SPAN_GP_POSTING)
    assert posting_span.attributes[names.GP_REQUEST_ID] == posting["id"]
    assert posting_span.attributes[names.OUTCOME] == "succeeded"
    calls = named(in_trace, names.SPAN_SMARTCONNECT)
    assert sorted((c.attributes[names.GP_MAP], c.attributes[names.GP_COMPANY]) for c in calls) == sorted(
        (d.map_id.value, d.inter_id) for d in documents
    )
    assert {c.attributes[names.OUTCOME] for c in calls} == {"accepted"}

    posted = points_when(
        folder, names.GP_DOCUMENTS, lambda points: sum(map(value_of, points)) >= len(documents)
    )
    assert {p["attributes"][names.OUTCOME] for p in posted} == {"posted"}
    assert sum(map(value_of, posted)) == len(documents)
    amounts = points_when(folder, names.GP_AMOUNT, bool)
    assert sum(map(value_of, amounts)) == pytest.approx(
        float(sum(d.debits for d in documents if not d.statistical))
    )
