"""The Table adapter's guarantees, against Azurite: create-once, ETag-guarded writes, paged queries, transactions."""

from __future__ import annotations

import threading
import uuid

import pytest
from azure.data.tables import TableServiceClient

from shared.platform.conflicts import StateConflictError
from shared.platform.table_store import (
    Delete,
    EntityTooLargeError,
    Insert,
    Replace,
    TableStore,
    Transaction,
    key_part,
    rows_between,
)

pytestmark = pytest.mark.services


@pytest.fixture
def table(table_service: TableServiceClient) -> TableStore:
    store = TableStore(table_service, f"test{uuid.uuid4().hex[:12]}")
    store.ensure_table()
    store.ensure_table()  # a second call on an existing table is harmless
    return store


def test_an_entity_is_created_once_and_read_back_with_its_etag(table: TableStore) -> None:
    assert table.read("runs", "run|1") is None
    etag = table.create("runs", "run|1", {"Status": "running", "Attempt": 1})

    assert etag is not None
    assert table.create("runs", "run|1", {"Status": "other"}) is None  # exists: not an error, not a write
    found = table.read("runs", "run|1")
    assert found is not None
    assert found.properties == {"Status": "running", "Attempt": 1}
    assert found.etag == etag


def test_replace_and_merge_happen_only_at_the_etag_read(table: TableStore) -> None:
    first = table.create("runs", "run|1", {"Status": "running", "Stream": "user_sites"})
    assert first is not None

    second = table.merge("runs", "run|1", {"Status": "loading"}, first)
    merged = table.read("runs", "run|1")
    assert merged is not None and merged.properties == {"Status": "loading", "Stream": "user_sites"}

    with pytest.raises(StateConflictError):  # a writer still holding the old ETag lost the race
        table.replace("runs", "run|1", {"Status": "stale"}, first)
    table.replace("runs", "run|1", {"Status": "succeeded"}, second)
    replaced = table.read("runs", "run|1")
    assert replaced is not None and replaced.properties == {"Status": "succeeded"}

    table.delete("runs", "run|1")
    with pytest.raises(StateConflictError):  # gone since it was read: also a lost race
        table.replace("runs", "run|1", {"Status": "late"}, replaced.etag)


def test_delete_at_an_old_etag_is_refused_and_a_missing_entity_is_fine(table: TableStore) -> None:
    first = table.create("runs", "run|1", {"Status": "running"})
    assert first is not None
    table.merge("runs", "run|1", {"Status": "loading"}, first)

    with pytest.raises(StateConflictError):
        table.delete("runs", "run|1", etag=first)
    table.delete("runs", "run|1")
    table.delete("runs", "run|1")
    assert table.read("runs", "run|1") is None


def test_of_many_concurrent_creators_exactly_one_wins(table: TableStore) -> None:
    outcomes: list[bool] = []
    lock = threading.Lock()

    def create(writer: int) -> None:
        created = table.create("gp", "subject|statement-1", {"Writer": writer}) is not None
        with lock:
            outcomes.append(created)

    threads = [threading.Thread(target=create, args=(writer,)) for writer in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == [False] * 7 + [True]


def test_a_query_reads_one_partition_a_page_at_a_time(table: TableStore) -> None:
    for number in range(7):
        table.create("runs", f"stream|user_sites|{number}", {"Number": number})
    table.create("runs", "stream|user_roles|0", {"Number": 99})
    table.create("other", "stream|user_sites|9", {"Number": 99})
    low, high = rows_between("stream|user_sites|")
    where = "RowKey ge @low and RowKey lt @high"

    pages, continuation = [], None
    while True:
        page = table.query(
            "runs", where, {"low": low, "high": high}, results_per_page=3, continuation=continuation
        )
        pages.append([entity.properties["Number"] for entity in page.entities])
        continuation = page.continuation
        if continuation is None:
            break
    assert pages == [[0, 1, 2], [3, 4, 5], [6]]

    filtered = table.query("runs", "Number ge @least", {"least": 5})
    assert [entity.row for entity in filtered.entities] == [
        "stream|user_roles|0",
        "stream|user_sites|5",
        "stream|user_sites|6",
    ]


def test_a_transaction_changes_one_partition_all_or_nothing(table: TableStore) -> None:
    etag = table.create("runs", "run|1", {"Status": "running"})
    assert etag is not None
    table.create("runs", "status|running|1", {"Run": "1"})

    new_etags = table.commit(
        Transaction(
            "runs",
            [
                Replace("run|1", {"Status": "failed"}, etag),
                Delete("status|running|1"),
                Insert("status|failed|1", {"Run": "1"}),
            ],
        )
    )
    record = table.read("runs", "run|1")
    assert record is not None and record.properties == {"Status": "failed"}
    assert new_etags[0] == record.etag
    assert table.read("runs", "status|running|1") is None

    with pytest.raises(StateConflictError):  # the stale ETag fails the whole transaction ...
        table.commit(
            Transaction(
                "runs",
                [Replace("run|1", {"Status": "succeeded"}, etag), Insert("status|succeeded|1", {"Run": "1"})],
            )
        )
    assert table.read("runs", "status|succeeded|1") is None  # ... so its insert never happened
    with pytest.raises(StateConflictError):  # an insert of an existing entity fails it too
        table.commit(Transaction("runs", [Insert("status|failed|1", {"Run": "1"})]))


def test_table_limits_are_checked_before_anything_is_sent(table: TableStore) -> None:
    with pytest.raises(ValueError, match="at most 100"):
        table.commit(Transaction("runs", [Insert(f"row|{number}", {}) for number in range(101)]))
    with pytest.raises(EntityTooLargeError, match="64 KiB"):
        table.create("runs", "run|1", {"Record": "x" * 32_768})
    with pytest.raises(EntityTooLargeError, match="64 KiB"):  # UTF-16 units, not characters, count
        table.create("runs", "run|1", {"Record": "\N{AUTOMOBILE}" * 16_384})
    with pytest.raises(EntityTooLargeError, match="properties"):
        table.create("runs", "run|1", {f"P{number}": 1 for number in range(253)})
    with pytest.raises(EntityTooLargeError, match="1048576"):
        table.create("runs", "run|1", {f"Part{number}": "x" * 30_000 for number in range(18)})
    assert table.read("runs", "run|1") is None
    assert table.create("runs", "run|1", {"Record": "x" * 32_767}) is not None  # right at the limit


def test_key_parts_escape_what_keys_refuse_and_never_collide(table: TableStore) -> None:
    awkward = ["a/b", "a\\b", "a#b", "a?b", "a|b", "a%2Fb", "tab\there"]
    parts = [key_part(value) for value in awkward]

    assert len(set(parts)) == len(awkward)
    for part in parts:
        assert not set(part) & set("/\\#?|\t")
        assert table.create("runs", f"corr|{part}", {"Value": part}) is not None
