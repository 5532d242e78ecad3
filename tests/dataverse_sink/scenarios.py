"""Sink scenarios that must come out the same against any Dataverse: the documented double or the sandbox.

A ``World`` reaches its Dataverse only through the hub's own client, so the
scenarios seed, edit and read rows the way any other Web API caller would; the
things a world adds are throttling on demand and the server's own counts of
``$batch`` requests and of 429 answers.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from shared.connectors.dataverse.client import DataverseClient
from shared.connectors.dataverse.keys import key_filter
from shared.connectors.dataverse.sink import ConflictPolicy, DataverseSink, DataverseTarget
from shared.http.client import ResilientClient
from shared.pipeline.target import Outcome

SITES = "bs_mastercustomersites"
JOB_CODES = "bs_jobcodes"
SITE_TARGET = DataverseTarget(SITES, ("bs_sitenumber",))
JOB_CODE_TARGET = DataverseTarget(
    JOB_CODES,
    ("bs_jobcode",),
    conflict_policy=ConflictPolicy.SKIP_IF_CHANGED,
    keep_dataverse_fields=("bs_jobtitle",),
)


class HookedClient(DataverseClient):
    """The hub's client, able to run something right after a query's last page: 'meanwhile, in Dataverse'."""

    def __init__(self, http: ResilientClient, token: Callable[[], str]) -> None:
        super().__init__(http, token)
        self.after_query: list[Callable[[], None]] = []

    def query(
        self, entity_set: str, select: Sequence[str], filter: str | None = None, page_size: int = 5000
    ) -> Iterator[dict[str, Any]]:
        yield from super().query(entity_set, select, filter, page_size)
        hooks, self.after_query = self.after_query, []
        for hook in hooks:
            hook()


@dataclass
class World:
    client: HookedClient
    make_sink: Callable[..., DataverseSink]
    throttle: Callable[[float], None]
    batch_requests: Callable[[], int]
    throttled_answers: Callable[[], int]

    def sink(self, **options: Any) -> DataverseSink:
        return self.make_sink(self.client, **options)

    def seed(self, entity_set: str, key: str, rows: list[dict[str, Any]]) -> None:
        for row in rows:
            body = {name: value for name, value in row.items() if name != key}
            self.client.upsert(entity_set, {key: row[key]}, body)

    def edit(self, entity_set: str, key: Mapping[str, Any], changes: Mapping[str, Any]) -> None:
        self.client.upsert(entity_set, key, changes, if_match="*")

    def remove(self, entity_set: str, key: Mapping[str, Any]) -> None:
        self.client.delete(entity_set, key)

    def row(self, entity_set: str, key: Mapping[str, Any], columns: Sequence[str]) -> dict[str, Any] | None:
        names = tuple(key)
        found = list(
            self.client.query(entity_set, [*names, *columns], filter=key_filter(names, [tuple(key.values())]))
        )
        return found[0] if found else None


def _site(number: int, suffix: str = "") -> dict[str, Any]:
    return {
        "bs_sitenumber": f"{number:04d}",
        "bs_sitename": f"Towne Park site {number}{suffix}",
        "bs_glstring": f"02-{number:04d}-000",
    }


def source_wins_upserts_every_record_in_ceil_n_over_1000_batches(world: World) -> None:
    sites = [_site(number) for number in range(1, 2501)]
    before = world.batch_requests()

    results = world.sink().upsert(SITE_TARGET, sites)

    assert world.batch_requests() - before == math.ceil(len(sites) / 1000)
    assert [result.outcome for result in results] == [Outcome.UPSERTED] * len(sites)
    assert [result.key for result in results] == [(site["bs_sitenumber"],) for site in sites]
    assert all(result.status == 204 for result in results)
    assert world.row(SITES, {"bs_sitenumber": "2500"}, ["bs_sitename"]) is not None


def loading_the_same_records_twice_changes_nothing(world: World) -> None:
    sites = [_site(number) for number in range(3001, 3021)]
    sink = world.sink()
    first = sink.upsert(SITE_TARGET, sites)
    second = sink.upsert(SITE_TARGET, sites)
    assert first == second
    row = world.row(SITES, {"bs_sitenumber": "3007"}, ["bs_sitename", "bs_glstring"])
    assert row is not None
    assert (row["bs_sitename"], row["bs_glstring"]) == ("Towne Park site 3007", "02-3007-000")


def an_unusable_key_is_rejected_and_the_rest_load(world: World) -> None:
    records = [_site(4001), {**_site(4002), "bs_sitenumber": "40/02"}, {**_site(4003), "bs_sitenumber": None}]

    results = world.sink().upsert(SITE_TARGET, records)

    assert [result.outcome for result in results] == [Outcome.UPSERTED, Outcome.REJECTED, Outcome.REJECTED]
    assert results[1].status == 0 and results[1].error_code == "unusable_key"
    assert results[1].message is not None and "/" in results[1].message
    assert world.row(SITES, {"bs_sitenumber": "4001"}, ["bs_sitename"]) is not None


def duplicate_keys_in_one_batch_are_written_once_last_one_wins(world: World) -> None:
    records = [_site(4101), _site(4101, " (renamed)")]

    results = world.sink().upsert(SITE_TARGET, records)

    assert [result.outcome for result in results] == [Outcome.UPSERTED, Outcome.UPSERTED]
    row = world.row(SITES, {"bs_sitenumber": "4101"}, ["bs_sitename"])
    assert row is not None and row["bs_sitename"] == "Towne Park site 4101 (renamed)"


def skip_if_changed_creates_updates_and_keeps_dataverse_edits(world: World) -> None:
    world.seed(
        JOB_CODES,
        "bs_jobcode",
        [
            {"bs_jobcode": "VALET-01", "bs_jobtitle": "Valet Attendant", "bs_name": "Valet"},
            {
                "bs_jobcode": "CASH-01",
                "bs_jobtitle": "Head Cashier (edited in Dataverse)",
                "bs_name": "Cashier",
            },
            {"bs_jobcode": "SUPV-01", "bs_jobtitle": "Supervisor", "bs_name": "Supervisor"},
        ],
    )
    records = [
        {"bs_jobcode": "VALET-01", "bs_jobtitle": "Valet Attendant", "bs_name": "Valet Parking"},
        {"bs_jobcode": "CASH-01", "bs_jobtitle": "Cashier", "bs_name": "Cashier"},
        {"bs_jobcode": "SUPV-01", "bs_jobtitle": "Supervisor", "bs_name": "Supervisor"},
        {"bs_jobcode": "SHUTTLE-01", "bs_jobtitle": "Shuttle Driver", "bs_name": "Shuttle"},
    ]

    results = world.sink().upsert(JOB_CODE_TARGET, records)

    outcomes = {result.key[0]: result for result in results}
    assert outcomes["VALET-01"].outcome == Outcome.UPDATED and outcomes["VALET-01"].kept == ()
    assert outcomes["CASH-01"].outcome == Outcome.UNCHANGED
    assert outcomes["CASH-01"].kept == ("bs_jobtitle",)
    assert outcomes["CASH-01"].message == "kept Dataverse's bs_jobtitle"
    assert outcomes["SUPV-01"].outcome == Outcome.UNCHANGED and outcomes["SUPV-01"].kept == ()
    assert outcomes["SHUTTLE-01"].outcome == Outcome.CREATED
    cashier = world.row(JOB_CODES, {"bs_jobcode": "CASH-01"}, ["bs_jobtitle"])
    assert cashier is not None and cashier["bs_jobtitle"] == "Head Cashier (edited in Dataverse)"
    valet = world.row(JOB_CODES, {"bs_jobcode": "VALET-01"}, ["bs_name"])
    assert valet is not None and valet["bs_name"] == "Valet Parking"
    shuttle = world.row(JOB_CODES, {"bs_jobcode": "SHUTTLE-01"}, ["bs_jobtitle"])
    assert shuttle is not None and shuttle["bs_jobtitle"] == "Shuttle Driver"


def an_edit_between_read_and_write_is_a_conflict_not_an_overwrite(world: World) -> None:
    world.seed(
        JOB_CODES, "bs_jobcode", [{"bs_jobcode": "GARAGE-01", "bs_jobtitle": "Garage", "bs_name": "Garage"}]
    )
    world.client.after_query.append(
        lambda: world.edit(JOB_CODES, {"bs_jobcode": "GARAGE-01"}, {"bs_name": "Garage (someone's edit)"})
    )

    results = world.sink().upsert(
        JOB_CODE_TARGET, [{"bs_jobcode": "GARAGE-01", "bs_jobtitle": "Garage", "bs_name": "Garage Attendant"}]
    )

    assert results[0].outcome == Outcome.CONFLICT and results[0].status == 412
    row = world.row(JOB_CODES, {"bs_jobcode": "GARAGE-01"}, ["bs_name"])
    assert row is not None and row["bs_name"] == "Garage (someone's edit)"


def a_row_created_or_deleted_meanwhile_is_reported_not_forced(world: World) -> None:
    world.seed(JOB_CODES, "bs_jobcode", [{"bs_jobcode": "DOOR-01", "bs_jobtitle": "Door", "bs_name": "Door"}])

    def meanwhile() -> None:
        world.seed(
            JOB_CODES, "bs_jobcode", [{"bs_jobcode": "BELL-01", "bs_jobtitle": "Bell", "bs_name": "Bell"}]
        )
        world.remove(JOB_CODES, {"bs_jobcode": "DOOR-01"})

    world.client.after_query.append(meanwhile)

    results = world.sink().upsert(
        JOB_CODE_TARGET,
        [
            {"bs_jobcode": "BELL-01", "bs_jobtitle": "Bell Staff", "bs_name": "Bell Staff"},
            {"bs_jobcode": "DOOR-01", "bs_jobtitle": "Door", "bs_name": "Doorman"},
        ],
    )

    assert [(r.outcome, r.status) for r in results] == [(Outcome.CONFLICT, 412), (Outcome.NOT_FOUND, 404)]
    bell = world.row(JOB_CODES, {"bs_jobcode": "BELL-01"}, ["bs_name"])
    assert bell is not None and bell["bs_name"] == "Bell"
    assert world.row(JOB_CODES, {"bs_jobcode": "DOOR-01"}, ["bs_name"]) is None


def deletes_report_deleted_and_not_found(world: World) -> None:
    world.sink().upsert(SITE_TARGET, [_site(5001), _site(5002)])

    results = world.sink().delete(
        SITE_TARGET, [{"bs_sitenumber": "5001"}, {"bs_sitenumber": "5002"}, {"bs_sitenumber": "5999"}]
    )

    assert [result.outcome for result in results] == [Outcome.DELETED, Outcome.DELETED, Outcome.NOT_FOUND]
    assert world.row(SITES, {"bs_sitenumber": "5001"}, ["bs_sitename"]) is None


def update_only_changes_existing_rows_and_creates_none(world: World) -> None:
    world.sink().upsert(SITE_TARGET, [_site(5101)])
    update_only = DataverseTarget(SITES, ("bs_sitenumber",), conflict_policy=ConflictPolicy.UPDATE_ONLY)

    results = world.sink().upsert(update_only, [_site(5101, " (paid)"), _site(5102)])

    assert [(r.outcome, r.status) for r in results] == [(Outcome.UPDATED, 204), (Outcome.NOT_FOUND, 404)]
    paid = world.row(SITES, {"bs_sitenumber": "5101"}, ["bs_sitename"])
    assert paid is not None and paid["bs_sitename"] == "Towne Park site 5101 (paid)"
    assert world.row(SITES, {"bs_sitenumber": "5102"}, ["bs_sitename"]) is None


def thirty_percent_throttled_still_loads_every_record(world: World) -> None:
    sites = [_site(number) for number in range(6001, 6401)]
    before = world.throttled_answers()
    world.throttle(0.3)
    try:
        results = world.sink(batch_size=100).upsert(SITE_TARGET, sites)
    finally:
        world.throttle(0.0)

    assert world.throttled_answers() > before
    assert [result.outcome for result in results] == [Outcome.UPSERTED] * len(sites)
    for number in (6001, 6200, 6400):
        assert world.row(SITES, {"bs_sitenumber": f"{number:04d}"}, ["bs_sitename"]) is not None


def queries_follow_next_links_page_by_page(world: World) -> None:
    world.sink().upsert(SITE_TARGET, [_site(number) for number in range(7001, 7013)])
    wanted = [(f"{number:04d}",) for number in range(7001, 7013)]

    rows = list(
        world.client.query(
            SITES,
            ["bs_sitenumber", "bs_sitename"],
            filter=key_filter(("bs_sitenumber",), wanted),
            page_size=5,
        )
    )

    assert sorted(row["bs_sitenumber"] for row in rows) == [key[0] for key in wanted]
    assert all("@odata.etag" in row for row in rows)


SCENARIOS: list[Callable[[World], None]] = [
    source_wins_upserts_every_record_in_ceil_n_over_1000_batches,
    loading_the_same_records_twice_changes_nothing,
    an_unusable_key_is_rejected_and_the_rest_load,
    duplicate_keys_in_one_batch_are_written_once_last_one_wins,
    skip_if_changed_creates_updates_and_keeps_dataverse_edits,
    an_edit_between_read_and_write_is_a_conflict_not_an_overwrite,
    a_row_created_or_deleted_meanwhile_is_reported_not_forced,
    deletes_report_deleted_and_not_found,
    update_only_changes_existing_rows_and_creates_none,
    thirty_percent_throttled_still_loads_every_record,
    queries_follow_next_links_page_by_page,
]
