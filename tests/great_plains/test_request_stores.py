"""GP posting requests behave the same in Blob and in Table storage: one current request per subject."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from shared.workflows.gp_posting.request_table import PostingRequestTable
from shared.workflows.gp_posting.requests import (
    DocumentOutcome,
    PostingRequest,
    PostingRequests,
    PostingSubject,
    new_request_id,
)
from tests.fixtures.state_tables import StateTables

pytestmark = pytest.mark.services

NOW = datetime(2025, 5, 1, 10, 15, tzinfo=UTC)
LATER = NOW + timedelta(minutes=5)
STATEMENT = PostingSubject(statement_id="6F1C0A2E-0000-4000-8000-000000000001")


def request(subject: PostingSubject = STATEMENT, at: datetime = NOW) -> PostingRequest:
    return PostingRequest(id=new_request_id(at), subject=subject, created_at=at, updated_at=at)


@pytest.fixture(params=["blob", "table"])
def requests(
    request: pytest.FixtureRequest, state_tables: StateTables
) -> PostingRequests | PostingRequestTable:
    if request.param == "blob":
        return PostingRequests(state_tables.state, now=lambda: LATER)
    return PostingRequestTable(state_tables.postings, state_tables.state, now=lambda: LATER)


def test_the_first_claim_stands_while_it_is_active(requests: PostingRequests | PostingRequestTable) -> None:
    first = request()
    assert requests.claim(first, replace_finished=True) == (first, True)
    assert requests.get(first.id) == first
    assert requests.latest(STATEMENT) == first

    second = request()
    assert requests.claim(second, replace_finished=True) == (first, False)
    assert requests.get(second.id) is None
    assert requests.claim(first, replace_finished=True) == (first, False)  # a redelivered claim


def test_a_finished_request_is_replaced_only_when_asked(
    requests: PostingRequests | PostingRequestTable,
) -> None:
    first = request()
    requests.claim(first, replace_finished=True)
    requests.update(first.id, lambda r: r.model_copy(update={"status": "succeeded"}))

    sweep = request()
    standing, created = requests.claim(sweep, replace_finished=False)
    assert (standing.id, standing.status, created) == (first.id, "succeeded", False)

    again = request()
    assert requests.claim(again, replace_finished=True) == (again, True)
    assert requests.latest(STATEMENT) == again
    other = PostingSubject(unit_statistics_period="2025-04")
    assert requests.latest(other) is None


def test_of_many_concurrent_claims_of_one_subject_exactly_one_is_new(
    requests: PostingRequests | PostingRequestTable,
) -> None:
    outcomes: list[tuple[str, bool]] = []
    lock = threading.Lock()

    def claim() -> None:
        standing, created = requests.claim(request(), replace_finished=True)
        with lock:
            outcomes.append((standing.id, created))

    threads = [threading.Thread(target=claim) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(outcomes) == 8
    assert sum(created for _, created in outcomes) == 1
    assert len({standing for standing, _ in outcomes}) == 1
    latest = requests.latest(STATEMENT)
    assert latest is not None and latest.id == outcomes[0][0]


def test_update_changes_the_record_and_stamps_it(requests: PostingRequests | PostingRequestTable) -> None:
    first = request()
    requests.claim(first, replace_finished=True)
    documents = [
        DocumentOutcome(key=f"doc-{n}", document_number=f"PB{n:05d}", map="PB_INVOICE", company="TOWNE",
                        batch_id="202504POWERBILL2025-04-30", status="posted", message="x" * 200)
        for n in range(400)
    ]  # fmt: skip

    changed = requests.update(
        first.id, lambda r: r.model_copy(update={"status": "running", "documents": documents})
    )
    assert (changed.status, changed.updated_at) == ("running", LATER)
    assert requests.get(first.id) == changed
    with pytest.raises(LookupError):
        requests.update("20250501T101500Z-gp-00000000", lambda r: r)


def test_active_ids_name_the_unfinished_requests(requests: PostingRequests | PostingRequestTable) -> None:
    running, retrying, finished = (
        request(PostingSubject(unit_statistics_period=f"2025-0{n}")) for n in (1, 2, 3)
    )
    for each in (running, retrying, finished):
        requests.claim(each, replace_finished=True)
    requests.update(running.id, lambda r: r.model_copy(update={"status": "running"}))
    requests.update(retrying.id, lambda r: r.model_copy(update={"status": "retrying"}))
    requests.update(finished.id, lambda r: r.model_copy(update={"status": "dead_lettered"}))

    assert sorted(requests.active_ids()) == sorted([running.id, retrying.id])


def test_the_table_lists_requests_by_status_newest_first(state_tables: StateTables) -> None:
    table = PostingRequestTable(state_tables.postings, state_tables.state)
    older = request(PostingSubject(unit_statistics_period="2025-03"), NOW)
    newer = request(PostingSubject(unit_statistics_period="2025-04"), LATER)
    for each in (older, newer):
        table.claim(each, replace_finished=True)
    table.update(older.id, lambda r: r.model_copy(update={"status": "refused"}))

    assert [found.id for found in table.page(status="queued")] == [newer.id]
    assert [found.id for found in table.page(status="refused")] == [older.id]
    assert [found.id for found in table.page()] == [newer.id, older.id]
