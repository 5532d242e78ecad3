"""Posting to the sandbox GP through the real SOAP path: exactly once, refused before GP, audited in Blob."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from datetime import date
from functools import cache

import orjson
import pytest
from azure.storage.blob import BlobServiceClient
from sqlalchemy import Engine, create_engine

from localdev.sandbox_gp.company import set_period_closed
from shared.connectors.great_plains.chart import FiscalPeriods, Series
from shared.connectors.great_plains.documents import GpMap
from shared.connectors.great_plains.ledger import GpLedger
from shared.connectors.great_plains.smartconnect import SmartConnect, read_reply
from shared.errors import HubError
from shared.http.hosts import HostRegistry
from shared.http.policy import HttpPolicy
from shared.platform.blob_lock import BlobLocks
from shared.platform.blob_store import BlobStore
from shared.workflows.gp_posting.audit import PostingAudit
from shared.workflows.gp_posting.billing import statement_postings
from shared.workflows.gp_posting.poster import GpPoster, PostingStatus
from tests.fixtures.gp_sandbox import GpSandbox
from tests.great_plains.gp_world import billing_day, expected, seed_chart
from tests.great_plains.statements import invoice, line, statement


@pytest.fixture
def store(blob_service: BlobServiceClient) -> BlobStore:
    blobs = BlobStore(blob_service, f"gp-{uuid.uuid4().hex[:12]}")
    blobs.ensure_container()
    return blobs


@pytest.fixture
def poster(gp_sandbox: GpSandbox, store: BlobStore) -> Iterator[GpPoster]:
    registry = HostRegistry(
        HttpPolicy(max_attempts=2, base_seconds=0.05, cap_seconds=0.1, read_timeout_seconds=1.0)
    )

    @cache
    def company_engine(company: str) -> Engine:
        return create_engine(f"sqlite:///{gp_sandbox.folder / company}.sqlite")

    ledger = GpLedger(company_engine)
    yield GpPoster(
        SmartConnect(registry.client(gp_sandbox.url), "SmartConnect.asmx"),
        store,
        ledger,
        PostingAudit(store, None),
        known_account=lambda company, account: account in ledger.chart(company),
        check_period=FiscalPeriods(company_engine).check,
        locks=BlobLocks(store.container, lease_seconds=15),
    )
    registry.close()


@pytest.mark.slow(30)
def test_gp_holds_every_document_once_however_often_it_is_delivered(
    gp_sandbox: GpSandbox, poster: GpPoster, store: BlobStore
) -> None:
    documents = expected(billing_day(40, first_site=1000))
    seed_chart(gp_sandbox, documents)
    first = [poster.post(document) for document in documents]
    assert {result.status for result in first} == {PostingStatus.POSTED}, [r.message for r in first]
    again = [poster.post(document) for document in documents]
    assert {result.status for result in again} == {PostingStatus.DUPLICATE}
    assert gp_sandbox.stats()["accepted"] == len(documents)

    for company in ("TOWNE", "ENC", "UPP"):
        mine = [d for d in documents if d.company == company]
        receivables = sorted(d.document_number for d in mine if d.map_id is GpMap.RECEIVABLES)
        payables = sorted(d.document_number for d in mine if d.map_id is GpMap.PAYABLES)
        journals = sorted(d.document_number for d in mine if d.map_id is GpMap.JOURNAL)
        assert sorted(r[0] for r in gp_sandbox.rows(company, "SELECT DOCNUMBR FROM RM20101")) == receivables
        assert sorted(r[0] for r in gp_sandbox.rows(company, "SELECT DOCNUMBR FROM PM10000")) == payables
        assert sorted(r[0] for r in gp_sandbox.rows(company, "SELECT REFRENCE FROM GL10000")) == journals

    audit = [orjson.loads(store.get(path)) for path in store.list("gp/audit/")]
    assert len(audit) == 2 * len(documents)
    outcomes = {entry["document"]: entry for entry in audit if entry["stage"] == "success"}
    assert set(outcomes) == {document.document_number for document in documents}
    assert all(read_reply(entry["response_xml"]) == (True, "success") for entry in outcomes.values())


def test_a_posting_accepted_but_timed_out_is_found_in_gp_and_not_sent_again(
    gp_sandbox: GpSandbox, poster: GpPoster
) -> None:
    (document,) = expected([statement("2001", invoice("2001-202504-01-00", line("99.00")))])
    seed_chart(gp_sandbox, [document])
    gp_sandbox.mode("timeout_after_accept", times=1, hold_seconds=3)
    result = poster.post(document)
    assert (result.status, result.message) == (PostingStatus.POSTED, "found in GP")
    assert poster.post(document).status is PostingStatus.DUPLICATE
    assert gp_sandbox.stats()["calls"] == 1
    assert gp_sandbox.rows("TOWNE", "SELECT COUNT(*) FROM RM20101") == [(1,)]


def test_a_posting_applied_but_dropped_before_the_answer_is_found_in_gp_and_not_sent_again(
    gp_sandbox: GpSandbox, poster: GpPoster
) -> None:
    (document,) = expected([statement("2011", invoice("2011-202504-01-00", line("42.00")))])
    seed_chart(gp_sandbox, [document])
    gp_sandbox.fault("dropped_after_apply", 1)
    result = poster.post(document)
    assert (result.status, result.message) == (PostingStatus.POSTED, "found in GP")
    assert poster.post(document).status is PostingStatus.DUPLICATE
    assert gp_sandbox.stats()["calls"] == 1
    assert gp_sandbox.rows("TOWNE", "SELECT DOCNUMBR FROM RM20101") == [(document.document_number,)]


@pytest.mark.parametrize("fault", ["dropped_connection", "unavailable"])
def test_a_posting_gp_never_ran_is_left_for_redelivery_and_lands_once(
    gp_sandbox: GpSandbox, poster: GpPoster, fault: str
) -> None:
    (document,) = expected([statement("2012", invoice("2012-202504-01-00", line("17.00")))])
    seed_chart(gp_sandbox, [document])
    gp_sandbox.fault(fault, 1)
    with pytest.raises(HubError):
        poster.post(document)
    assert gp_sandbox.rows("TOWNE", "SELECT COUNT(*) FROM RM20101") == [(0,)]
    assert poster.post(document).status is PostingStatus.POSTED
    assert gp_sandbox.stats()["calls"] == 2
    assert gp_sandbox.rows("TOWNE", "SELECT DOCNUMBR FROM RM20101") == [(document.document_number,)]


def test_a_throttled_posting_waits_its_retry_after_and_lands_once(
    gp_sandbox: GpSandbox, poster: GpPoster
) -> None:
    (document,) = expected([statement("2013", invoice("2013-202504-01-00", line("8.00")))])
    seed_chart(gp_sandbox, [document])
    gp_sandbox.fault("throttled", 1, seconds=1)
    started = time.monotonic()
    assert poster.post(document).status is PostingStatus.POSTED
    assert time.monotonic() - started >= 1.0
    assert gp_sandbox.stats()["calls"] == 2
    assert gp_sandbox.rows("TOWNE", "SELECT DOCNUMBR FROM RM20101") == [(document.document_number,)]


def test_gp_down_leaves_the_posting_to_be_redelivered_and_it_lands_once(
    gp_sandbox: GpSandbox, poster: GpPoster
) -> None:
    (document,) = expected([statement("2002", invoice("2002-202504-01-00", line("10.00")))])
    seed_chart(gp_sandbox, [document])
    gp_sandbox.mode("down")
    with pytest.raises(HubError):
        poster.post(document)
    gp_sandbox.mode("normal")
    assert poster.post(document).status is PostingStatus.POSTED
    assert poster.post(document).status is PostingStatus.DUPLICATE
    assert gp_sandbox.rows("TOWNE", "SELECT COUNT(*) FROM RM20101") == [(1,)]


def test_unknown_account_and_unbalanced_invoice_are_refused_before_any_call(
    gp_sandbox: GpSandbox, poster: GpPoster
) -> None:
    (document,) = expected([statement("2003", invoice("2003-202504-01-00", line("10.00")))])
    result = poster.post(document)
    assert result.status is PostingStatus.REFUSED
    assert "02-03-2106-4791-2003" in result.message and "not in TOWNE's chart" in result.message
    unbalanced = statement_postings(statement("2004", invoice("2004-1", line("10.00"), amount="12.00")))
    assert unbalanced.refused[0].reason == "does not balance: debits 12.00 != credits 10.00"
    assert gp_sandbox.stats()["calls"] == 0


def test_smartconnect_rejection_comes_back_with_its_words(gp_sandbox: GpSandbox, poster: GpPoster) -> None:
    (document,) = expected([statement("2005", invoice("2005-202504-01-00", line("10.00")))])
    seed_chart(gp_sandbox, [document])
    changed = statement_postings(statement("2005", invoice("2005-202504-01-00", line("11.00")))).documents[0]
    seed_chart(gp_sandbox, [changed])
    assert poster.post(document).status is PostingStatus.POSTED
    result = poster.post(changed)
    assert (result.status, result.message) == (
        PostingStatus.REJECTED,
        "Duplicate document number 20052025040100",
    )


def test_a_document_dated_in_a_closed_period_is_refused_before_any_call(
    gp_sandbox: GpSandbox, poster: GpPoster
) -> None:
    (document,) = expected([statement("2006", invoice("2006-202504-01-00", line("10.00")))])
    seed_chart(gp_sandbox, [document])
    set_period_closed(gp_sandbox.folder, "TOWNE", date(2025, 4, 30), Series.SALES)
    try:
        result = poster.post(document)
    finally:
        set_period_closed(gp_sandbox.folder, "TOWNE", date(2025, 4, 30), Series.SALES, closed=False)
    assert result.status is PostingStatus.REFUSED
    assert "closed for the sales series" in result.message, result.message
    assert gp_sandbox.stats()["calls"] == 0
