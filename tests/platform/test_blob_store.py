"""The Blob adapter's guarantees, against Azurite: ETag-guarded state, create-only markers, leases."""

from __future__ import annotations

import threading
import time
import uuid

import pytest
from azure.storage.blob import BlobServiceClient

from shared.platform.blob_lock import BlobLocks, LockHeldError
from shared.platform.blob_store import BlobStore
from shared.platform.conflicts import StateConflictError


@pytest.fixture
def store(blob_service: BlobServiceClient) -> BlobStore:
    store = BlobStore(blob_service, f"test-{uuid.uuid4().hex[:12]}")
    store.ensure_container()
    store.ensure_container()  # a second call on an existing container is harmless
    return store


def test_bytes_round_trip_and_listing_by_prefix(store: BlobStore) -> None:
    store.put("staging/run-1/batch-0002.jsonl.gz", b"two")
    store.put("staging/run-1/batch-0001.jsonl.gz", b"one")
    store.put("staging/run-2/batch-0001.jsonl.gz", b"other run")

    assert store.get("staging/run-1/batch-0001.jsonl.gz") == b"one"
    assert list(store.list("staging/run-1/")) == [
        "staging/run-1/batch-0001.jsonl.gz",
        "staging/run-1/batch-0002.jsonl.gz",
    ]
    assert store.exists("staging/run-2/batch-0001.jsonl.gz")
    assert not store.exists("staging/run-3/batch-0001.jsonl.gz")


def test_state_document_is_created_once_then_updated_only_at_its_etag(store: BlobStore) -> None:
    assert store.read_json("state/legion_wage_rates.json") is None
    first = store.write_json("state/legion_wage_rates.json", {"watermark": "2026-11-01"}, etag=None)

    with pytest.raises(StateConflictError):
        store.write_json("state/legion_wage_rates.json", {"watermark": "x"}, etag=None)

    document = store.read_json("state/legion_wage_rates.json")
    assert document is not None
    assert document.value == {"watermark": "2026-11-01"}
    assert document.etag == first

    second = store.write_json("state/legion_wage_rates.json", {"watermark": "2026-11-02"}, etag=first)
    assert second != first
    with pytest.raises(StateConflictError):  # a writer still holding the old ETag lost the race
        store.write_json("state/legion_wage_rates.json", {"watermark": "stale"}, etag=first)

    final = store.read_json("state/legion_wage_rates.json")
    assert final is not None and final.value == {"watermark": "2026-11-02"}


def test_marker_is_created_by_exactly_one_of_many_concurrent_writers(store: BlobStore) -> None:
    outcomes: list[bool] = []
    lock = threading.Lock()

    def write(writer: int) -> None:
        created = store.create_marker("markers/batch-42.json", {"writer": writer})
        with lock:
            outcomes.append(created)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == [False] * 7 + [True]


def test_named_lock_refuses_a_second_holder_and_names_the_first(store: BlobStore) -> None:
    locks = BlobLocks(store.container, lease_seconds=15)
    assert locks.holder("sync-master_customer_sites") is None  # never taken
    with locks.acquire("sync-master_customer_sites", holder="run-A"):
        assert locks.holder("sync-master_customer_sites") == "run-A"
        with pytest.raises(LockHeldError) as refused:
            locks.acquire("sync-master_customer_sites", holder="run-B")
        assert refused.value.holder == "run-A"
        assert "run-A" in str(refused.value)
        other = locks.acquire("sync-job_codes", holder="run-C")  # other names are independent
        other.release()
        assert locks.holder("sync-job_codes") is None  # released
    with locks.acquire("sync-master_customer_sites", holder="run-B"):
        assert locks.holder("sync-master_customer_sites") == "run-B"


@pytest.mark.slow(33)
def test_lock_is_renewed_while_held_and_lapses_when_its_holder_dies(store: BlobStore) -> None:
    locks = BlobLocks(store.container, lease_seconds=15)
    held = locks.acquire("sync-budgets", holder="run-long")
    time.sleep(17)  # past one lease period: only renewals keep it
    with pytest.raises(LockHeldError):
        locks.acquire("sync-budgets", holder="run-next")
    assert not held.lost

    held._stop.set()  # the holder "dies": renewals stop, nothing is released
    held._renewer.join()
    time.sleep(16)
    with locks.acquire("sync-budgets", holder="run-next"):
        pass


def test_lease_length_outside_blob_limits_is_refused(store: BlobStore) -> None:
    with pytest.raises(ValueError, match="between 15 and 60"):
        BlobLocks(store.container, lease_seconds=5)
