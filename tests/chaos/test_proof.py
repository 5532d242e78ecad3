"""The chaos proof's own reads catch what went wrong: a target row missing or changed, a secret in a log.

The source is a ``vwPAYROLL_SUMMARY`` file written here and the target the
sandbox Dataverse's own store, each record made from the source row the way
``worked_hours`` maps it (computed here, not by the stream's code).
"""

from __future__ import annotations

import sqlite3
import uuid
from contextlib import closing
from pathlib import Path

from localdev.chaos.proof import TARGET_ENTITY, no_secret_written, target_equals_source, target_records
from localdev.chaos.source import expected_records, payroll_rows
from localdev.sandbox.app import DATABASE
from localdev.sandbox.dataverse.store import RowStore

ROWS = 50


def _source(folder: Path) -> list[tuple[str, str, str, float, float]]:
    rows = list(payroll_rows(ROWS, seed=5))
    with closing(sqlite3.connect(folder / "TP_LEGION.sqlite")) as connection:
        connection.execute(
            'CREATE TABLE "vwPAYROLL_SUMMARY" (WORK_LOCATION TEXT, DATE TEXT, TITLE TEXT, PAY_TYPE TEXT, '
            "TOTAL_HOURS REAL, TOTAL_DOLLARS REAL)"
        )
        connection.executemany("INSERT INTO \"vwPAYROLL_SUMMARY\" VALUES (?, ?, ?, 'REGULAR', ?, ?)", rows)
        connection.commit()
    return rows


def _target(folder: Path, rows: list[tuple[str, str, str, float, float]]) -> Path:
    store = RowStore(folder / DATABASE)
    for version, (site, day, code, hours, dollars) in enumerate(rows, start=1):
        record = {
            "bs_sitenumber": site,
            "bs_jobcode": code,
            "bs_date": day,
            "bs_actualhours": round(hours, 2),
            "bs_actualcost": round(dollars, 2),
        }
        store.put(TARGET_ENTITY, str(uuid.uuid4()), version, record, {})
    store.close()
    return folder / DATABASE


def test_a_target_equal_to_its_source_holds(tmp_path: Path) -> None:
    rows = _source(tmp_path)
    line = target_equals_source(expected_records(tmp_path), target_records(_target(tmp_path, rows)))
    assert line.held, line.numbers
    assert f"source {ROWS}, target {ROWS}; missing 0, extra 0, content differs 0" == line.numbers


def test_a_deleted_target_row_fails_the_proof_naming_its_key(tmp_path: Path) -> None:
    rows = _source(tmp_path)
    target = _target(tmp_path, rows)
    site, day, code, _, _ = rows[17]
    with closing(sqlite3.connect(target)) as connection:
        connection.execute(
            "DELETE FROM rows WHERE entity = ? AND json_extract(data, '$.bs_sitenumber') = ? "
            "AND json_extract(data, '$.bs_jobcode') = ? AND json_extract(data, '$.bs_date') = ?",
            (TARGET_ENTITY, site, code, day),
        )
        connection.commit()
    line = target_equals_source(expected_records(tmp_path), target_records(target))
    assert not line.held
    assert "missing 1, extra 0, content differs 0" in line.numbers
    assert f"missing e.g. {site}/{code}/{day}" in line.numbers


def test_a_changed_amount_fails_the_proof_naming_its_key(tmp_path: Path) -> None:
    rows = _source(tmp_path)
    target = _target(tmp_path, rows)
    site, day, code, _, dollars = rows[3]
    with closing(sqlite3.connect(target)) as connection:
        changed = connection.execute(
            "UPDATE rows SET data = json_set(data, '$.bs_actualcost', ?) WHERE entity = ? "
            "AND json_extract(data, '$.bs_sitenumber') = ? AND json_extract(data, '$.bs_jobcode') = ? "
            "AND json_extract(data, '$.bs_date') = ?",
            (round(dollars + 0.01, 2), TARGET_ENTITY, site, code, day),
        ).rowcount
        connection.commit()
    assert changed == 1
    line = target_equals_source(expected_records(tmp_path), target_records(target))
    assert not line.held
    assert "missing 0, extra 0, content differs 1" in line.numbers
    assert f"differs e.g. {site}/{code}/{day}" in line.numbers


def test_a_secret_in_a_log_fails_the_proof_without_showing_it(tmp_path: Path) -> None:
    secret = "s3cret-" + uuid.uuid4().hex
    clean, leaky = tmp_path / "sandbox.log", tmp_path / "host.log"
    clean.write_text("signed in\n")
    leaky.write_text(f"connecting with client_secret={secret}\n")
    assert no_secret_written([clean], [secret]).held
    line = no_secret_written([clean, leaky], [secret])
    assert not line.held
    assert "host.log: secret #" in line.numbers
    assert secret not in line.numbers
