"""Stream states behave the same in Blob and in Table storage: created once, written back at their ETag."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from shared.pipeline.stream_state import StreamState, StreamStates
from shared.pipeline.stream_state_table import STREAMS_PARTITION, StreamStateTable
from shared.platform.conflicts import StateConflictError
from shared.platform.table_documents import SPILL
from tests.fixtures.state_tables import StateTables

pytestmark = pytest.mark.services


@pytest.fixture(params=["blob", "table"])
def states(request: pytest.FixtureRequest, state_tables: StateTables) -> StreamStates | StreamStateTable:
    if request.param == "blob":
        return StreamStates(state_tables.state)
    return StreamStateTable(state_tables.streams, state_tables.state)


def test_a_stream_never_run_has_an_empty_state_and_no_etag(states: StreamStates | StreamStateTable) -> None:
    assert states.read("legion_wage_rates") == (StreamState(), None)


def test_state_is_created_once_then_written_only_at_its_etag(states: StreamStates | StreamStateTable) -> None:
    first = StreamState(
        watermark="2026-11-01", last_run_id="run-1", updated_at=datetime(2026, 11, 2, tzinfo=UTC)
    )
    etag = states.write("legion_wage_rates", first, None)
    with pytest.raises(StateConflictError):
        states.write("legion_wage_rates", first, None)
    assert states.read("legion_wage_rates") == (first, etag)

    second = first.model_copy(update={"watermark": "2026-11-02"})
    new_etag = states.write("legion_wage_rates", second, etag)
    assert new_etag != etag
    with pytest.raises(StateConflictError):  # a writer still holding the old ETag lost the race
        states.write("legion_wage_rates", first, etag)
    assert states.read("legion_wage_rates") == (second, new_etag)
    assert states.read("user_sites") == (StreamState(), None)


def test_thousands_of_fingerprints_round_trip(states: StreamStates | StreamStateTable) -> None:
    big = StreamState(
        watermark=17, fingerprints={f'["{n:06d}","2026-11-01"]': f"{n:064x}" for n in range(5000)}
    )
    etag = states.write("user_sites", big, None)
    assert states.read("user_sites") == (big, etag)

    small = StreamState(watermark=18, fingerprints={"a": "b"})
    new_etag = states.write("user_sites", small, etag)
    assert states.read("user_sites") == (small, new_etag)


def test_the_table_spills_fingerprints_and_deletes_the_blob_it_replaced(state_tables: StateTables) -> None:
    states = StreamStateTable(state_tables.streams, state_tables.state)
    big = StreamState(fingerprints={str(n): f"{n:064x}" for n in range(5000)})
    etag = states.write("user_sites", big, None)
    stored = state_tables.streams.read(STREAMS_PARTITION, "user_sites")
    assert stored is not None
    assert list(state_tables.state.list("tables/streams/")) == [stored.properties[SPILL]]

    _, etag = states.read("user_sites")
    assert etag is not None
    bigger = big.model_copy(update={"fingerprints": {**big.fingerprints, "new": "0" * 64}})
    etag = states.write("user_sites", bigger, etag)
    stored = state_tables.streams.read(STREAMS_PARTITION, "user_sites")
    assert stored is not None
    assert list(state_tables.state.list("tables/streams/")) == [stored.properties[SPILL]]

    _, etag = states.read("user_sites")
    assert etag is not None
    states.write("user_sites", StreamState(watermark=1), etag)
    assert list(state_tables.state.list("tables/streams/")) == []
