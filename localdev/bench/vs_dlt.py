"""``make bench-vs-dlt``: the hub's extract → validate → stage against dlt's pyarrow backend, same run, same source.

For each size a fresh synthetic SQLite source (``localdev.bench.synthetic``,
1,000,000 rows by default, and 100,000 to show memory stays flat) is read by
both engines, each in a process of its own so its peak RSS is its own:

- the hub: ``localdev.bench.extract``, a full run of the bench stream
  validating every row with its pydantic model and staging gzip JSON-lines
  batches to Azurite with a load message each on the Service Bus emulator;
- dlt 1.31: ``localdev.bench.dlt_extract`` in the bench virtualenv
  (``--dlt-python``, which ``make bench-vs-dlt`` builds from
  ``requirements-bench.txt``), ``sql_table`` with ``backend="pyarrow"`` into
  parquet files in a local folder.

It prints both engines' wall and CPU seconds, rows/s and peak RSS, and the
hub's rows/s over dlt's. The CPU seconds are each process's own (the hub's
do not count Azurite's and the emulator's work): on a machine whose cores
other work shares, wall time moves with the load and CPU time much less.
"""

from __future__ import annotations

import argparse
import json
import subprocess
from pathlib import Path
from typing import Any

from localdev import services
from localdev.bench.extract import measure_extract
from localdev.bench.synthetic import make_source
from localdev.bench.world import bench_world


def measure_dlt(python: Path, source: Path) -> dict[str, Any]:
    """dlt's run over ``source`` with the bench virtualenv's interpreter; its JSON line."""
    child = subprocess.run(  # noqa: S603 - the bench virtualenv's python, our own module
        [str(python), "-m", "localdev.bench.dlt_extract", "--source", f"sqlite:///{source}"],
        cwd=services.REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, Any] = json.loads(child.stdout.strip().splitlines()[-1])
    return result


def _figures(run: dict[str, Any], peak_rss_mb: float) -> str:
    return f"{run['seconds']:>6.2f}  {run['cpu_seconds']:>6.2f}  {run['rows_per_second']:>8,}  {peak_rss_mb:>5.0f} MB"


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m localdev.bench.vs_dlt", description=__doc__)
    parser.add_argument(
        "--rows", type=int, nargs="+", default=[100_000, 1_000_000], help="source sizes (rows)"
    )
    parser.add_argument(
        "--dlt-python", type=Path, required=True, help="the bench virtualenv's python, with dlt installed"
    )
    arguments = parser.parse_args()
    print(
        "Extract → validate → stage: the hub against dlt 1.31 (sql_table, pyarrow backend), same SQLite source"
    )
    print(
        f"  {'rows':>9}  {'engine':<4}  {'wall s':>6}  {'CPU s':>6}  {'rows/s':>8}  {'peak RSS':>8}  hub/dlt rows/s"
    )
    with bench_world(sandbox=False) as world:
        for rows in arguments.rows:
            source = world.root / f"payroll-{rows}.sqlite"
            make_source(source, rows)
            hub = measure_extract(source, world.blob, world.servicebus)
            (run,) = hub["runs"]
            if run["error"] or run["staged"] != rows:
                print(f"  {rows:>9,}  the hub's run failed or staged {run['staged']:,}: {run['error']}")
                return 1
            dlt = measure_dlt(arguments.dlt_python, source)
            if dlt["rows"] != rows:
                print(f"  {rows:>9,}  dlt loaded {dlt['rows']:,} rows")
                return 1
            ratio = run["rows_per_second"] / dlt["rows_per_second"]
            print(f"  {rows:>9,}  hub   {_figures(run, hub['peak_rss_mb'])}  {ratio:>13.2f}x")
            print(f"  {'':>9}  dlt   {_figures(dlt, dlt['peak_rss_mb'])}")
            source.unlink()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
