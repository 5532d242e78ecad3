"""A short chaos run, end to end: 2,000 records and 4 statements under every fault, and the proof holds.

The whole world starts for it (about a minute on two busy cores), so it runs
only when ``HUB_CHAOS_TEST=1`` is set; ``make chaos RECORDS=...`` is the full run.
"""

from __future__ import annotations

import os
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from localdev.chaos.runner import run_chaos
from localdev.chaos.schedule import make_schedule

RECORDS = 2000


@pytest.mark.slow(120)
@pytest.mark.skipif(
    os.environ.get("HUB_CHAOS_TEST") != "1", reason="set HUB_CHAOS_TEST=1 to start a chaos world"
)
def test_a_short_chaos_run_ends_with_every_record_once_and_every_fault_counted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    held = run_chaos(tmp_path, RECORDS, make_schedule(11, host_kills=1), statements=4, batch_rows=200)
    table = capsys.readouterr().out
    assert held, table
    assert "host kills" in table and "FAILED" not in table
    for counted in ("host kills", "Azurite restarts", "emulator restarts"):
        assert next(line for line in table.splitlines() if line.startswith(counted)).split()[-1] == "1"
    # Our own count over the files the world left: one target row per source row, no more.
    with closing(sqlite3.connect(tmp_path / "sql" / "TP_LEGION.sqlite")) as source:
        (rows,) = source.execute('SELECT COUNT(*) FROM "vwPAYROLL_SUMMARY"').fetchone()
    with closing(sqlite3.connect(tmp_path / "sandbox" / "dataverse.sqlite3")) as target:
        (records, keys) = target.execute(
            "SELECT COUNT(*), COUNT(DISTINCT json_extract(data, '$.bs_sitenumber') || '/' || "
            "json_extract(data, '$.bs_jobcode') || '/' || json_extract(data, '$.bs_date')) "
            "FROM rows WHERE entity = 'bs_payrolldetails'"
        ).fetchone()
    assert rows == records == keys == RECORDS
