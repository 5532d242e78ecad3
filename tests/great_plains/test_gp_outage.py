"""GP down longer than several retries while postings are asked for, on the real app in the local host.

The postings wait the outage out (retried on the schedule, minutes apart in
production and seconds apart here, not redelivered at once), end ``succeeded``
once GP is back, and nothing is dead-lettered.
"""

from __future__ import annotations

import time

import pytest

from shared.composition import Hub
from tests.fixtures.gp_sandbox import GpSandbox
from tests.fixtures.hub_host import HubHost
from tests.great_plains.gp_world import (
    as_held,
    billing_day,
    expected,
    gp_documents,
    seed_chart,
    write_statements,
)
from tests.outages.test_on_the_host import follow

pytestmark = pytest.mark.services
# Retries 1 s apart at first, doubling to 4 s: a 20 s outage outlasts several of them, as a two-minute
# outage outlasts several of production's.
OUTAGE_SECONDS = 20
RETRIES = {"RETRY_FIRST_DELAY_SECONDS": "1", "RETRY_MAX_DELAY_SECONDS": "4"}


@pytest.mark.slow(45)
@pytest.mark.hub_settings(RETRIES)
def test_a_posting_made_while_gp_is_down_for_longer_than_several_retries_posts_once_gp_is_back(
    hub_host: HubHost, gp_sandbox: GpSandbox, gp_hub: Hub
) -> None:
    day = billing_day(2, first_site=7200)
    seed_chart(gp_sandbox, expected(day))
    write_statements(gp_hub, day)
    gp_sandbox.mode("down")
    try:
        with hub_host.client() as client:
            answers = [client.post("/api/v1/gp/postings", json={"statementId": s.statement_id}) for s in day]
            assert all(answer.status_code == 202 for answer in answers)
            time.sleep(OUTAGE_SECONDS)
    finally:
        gp_sandbox.mode("normal")
    with hub_host.client() as client:
        finals = [follow(client, answer, hub_host, 120) for answer in answers]
        letters = client.get("/api/v1/deadletters/gp-postings").json()["value"]
    assert [final.json()["status"] for final in finals] == ["succeeded", "succeeded"]
    assert all(final.json()["attempts"] > 3 for final in finals)  # several tries failed before GP was back
    assert not {letter["messageId"] for letter in letters} & {final.json()["id"] for final in finals}
    assert gp_documents(gp_sandbox) == as_held(expected(day))
