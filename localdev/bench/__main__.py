"""``make bench``: the engine's numbers on this machine, against the local world.

1. Extract → validate → stage: a synthetic SQL source (``PAYROLL_LINES``, shaped
   like Legion's payroll summary) of 250,000 and 1,000,000 rows, each size in a
   fresh process so its peak RSS is its own; then a no-change incremental run,
   which should cost one source query and stage nothing.
2. Load: 100,000 records staged and loaded into the sandbox Dataverse by the
   real loader and sink, counting ``$batch`` requests; then the same under 30%
   throttled requests.
3. Service protection: the same load with all three of Dataverse's limits on,
   scaled to a 60 s window (``localdev.bench.load.SCALED_LIMITS``): records/s
   sustained, the throttling met by code, and that rate against the ceiling the
   limits allow and the one Dataverse's documented limits would.
4. Payroll actuals: a sandbox SQL Server with a year of Legion days
   (``--actuals-sites``, 650 by default), and the real ``worked_hours`` and
   ``scheduled_hours`` streams backfilled over its last month and over the
   whole year, each in a fresh process (``localdev.bench.payroll_actuals``):
   source rows/s, records staged and peak RSS, which should not grow from the
   month to the year.

Azurite, the Service Bus emulator and the sandbox run on free ports in a
temporary folder and are stopped at the end. Sizes can be changed with
``--rows``, ``--load-records`` and ``--actuals-sites``, and ``--parts`` runs
only some of the four.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from localdev.bench.extract import measure_extract
from localdev.bench.load import SCALED_LIMITS, ceiling, documented_ceiling, measure_load
from localdev.bench.synthetic import make_source
from localdev.bench.world import bench_world
from localdev.sandbox_sql import build_sandbox


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m localdev.bench", description=__doc__)
    parser.add_argument(
        "--rows", type=int, nargs="+", default=[250_000, 1_000_000], help="source sizes to extract (rows)"
    )
    parser.add_argument(
        "--load-records", type=int, default=100_000, help="records to stage and load (default 100,000)"
    )
    parser.add_argument(
        "--actuals-sites", type=int, default=650, help="sites of the payroll-actuals sandbox (default 650)"
    )
    parts = ("extract", "load", "limits", "actuals")
    parser.add_argument(
        "--parts",
        nargs="+",
        choices=parts,
        default=list(parts),
        help="which measurements to run (default all)",
    )
    arguments = parser.parse_args()
    with bench_world() as world:
        if "extract" in arguments.parts:
            _extract(arguments.rows, world.root, world.blob, world.servicebus)
        if "load" in arguments.parts:
            _load(arguments.load_records, world.blob, world.servicebus, world.org_url, world.ca_bundle)
        if "limits" in arguments.parts:
            _limits(arguments.load_records, world.blob, world.servicebus, world.org_url, world.ca_bundle)
        if "actuals" in arguments.parts:
            _actuals(arguments.actuals_sites, world.root, world.blob, world.servicebus)
    return 0


def _extract(sizes: list[int], root: Path, blob: str, servicebus: str) -> None:
    print("Extract → validate → stage (synthetic SQL source, one process per size)")
    for rows in sizes:
        source = root / f"payroll-{rows}.sqlite"
        make_source(source, rows)
        result = measure_extract(source, blob, servicebus, runs=2 if rows == sizes[-1] else 1)
        for run in result["runs"]:
            if run["error"]:
                print(f"  {rows:>9,} rows  {run['run']} FAILED: {run['error']}")
                continue
            print(
                f"  {rows:>9,} rows  {run['run']:<22} {run['seconds']:>7.2f} s  "
                f"{run['rows_per_second'] or 0:>8,} rows/s  staged {run['staged']:>9,} in {run['batches']:>4} batches  "
                f"source queries {run['source_queries']}"
            )
        print(f"  {'':>9}      peak RSS {result['peak_rss_mb']:.0f} MB")
        source.unlink()


def _load(records: int, blob: str, servicebus: str, org_url: str, ca_bundle: Path) -> None:
    print(f"Load {records:,} records into the sandbox Dataverse")
    for throttled in (0.0, 0.3):
        throttle = {"fraction": throttled, "retry_after": 1, "seed": 5}
        outcome = measure_load(records, blob, servicebus, org_url, ca_bundle, throttle)
        print(
            f"  throttled {throttled:>4.0%}  {outcome.seconds:>7.2f} s  {outcome.records_per_second:>7,.0f} records/s  "
            f"$batch POSTs sent {outcome.batch_requests} (ceil(n/1000) = {outcome.minimum_batches}, "
            f"{outcome.extra_percent:.1f}% over; {outcome.batches_served} served)  "
            f"throttled answers {outcome.throttled}  in Dataverse {outcome.rows_in_dataverse:,}"
        )


def _limits(records: int, blob: str, servicebus: str, org_url: str, ca_bundle: Path) -> None:
    limits = SCALED_LIMITS
    print(
        f"Load {records:,} records under all three service protection limits, per {limits['window_seconds']} s: "
        f"{limits['limit']} requests, {limits['execution_ms_limit']:,} ms of execution at "
        f"{limits['cost_ms_per_operation']} ms an operation, {limits['concurrent_limit']} concurrent"
    )
    outcome = measure_load(records, blob, servicebus, org_url, ca_bundle, limits)
    allowed = ceiling(**limits)
    documented = documented_ceiling(limits["cost_ms_per_operation"])
    by_code = ", ".join(f"{code} x{count}" for code, count in outcome.throttled_by_code.items()) or "none"
    print(
        f"  {outcome.seconds:>7.2f} s  {outcome.records_per_second:>7,.0f} records/s sustained  "
        f"= {outcome.records_per_second / allowed:.0%} of the {allowed:,.0f} records/s these limits allow  "
        f"(Dataverse's documented limits: {documented:,.0f} records/s at this cost)"
    )
    print(
        f"  throttled answers {outcome.throttled} ({by_code})  $batch POSTs sent {outcome.batch_requests} "
        f"({outcome.batches_served} served)  "
        f"batches retried later {outcome.retried_later}  dead-lettered {outcome.dead_lettered}  "
        f"in Dataverse {outcome.rows_in_dataverse:,}"
    )


ACTUALS_DAYS = 365


def _actuals(sites: int, root: Path, blob: str, servicebus: str) -> None:
    built = build_sandbox(root / "sql", sites=sites, days=ACTUALS_DAYS)
    payroll = built.rows["TP_LEGION.dbo.vwPAYROLL_SUMMARY"]
    shifts = built.rows["TP_LEGION.dbo.SHIFT_ENTITY"]
    print(
        f"Payroll actuals: a sandbox year ({built.first_payroll_day} to {built.last_payroll_day}, {sites} sites: "
        f"{payroll:,} payroll rows, {shifts:,} shifts; built in {built.seconds} s), backfilled, one process each"
    )
    end = built.last_payroll_day + timedelta(days=1)
    last_month = (end.replace(day=1) - timedelta(days=1)).replace(day=1)
    windows = {"a month": (last_month, end.replace(day=1)), "a year": (built.first_payroll_day, end)}
    for stream in ("worked_hours", "scheduled_hours"):
        for label, (first, stop) in windows.items():
            child = subprocess.run(  # noqa: S603 - our own module
                [
                    sys.executable,
                    "-m",
                    "localdev.bench.payroll_actuals",
                    "--folder",
                    str(root / "sql"),
                    "--stream",
                    stream,
                    "--start",
                    first.isoformat(),
                    "--end",
                    stop.isoformat(),
                    "--blob",
                    blob,
                    "--servicebus",
                    servicebus,
                ],
                capture_output=True,
                text=True,
                check=True,
            )
            result = json.loads(child.stdout.strip().splitlines()[-1])
            if result["error"]:
                print(f"  {stream:<16} {label:<8} FAILED: {result['error']}")
                continue
            print(
                f"  {stream:<16} {label:<8} {result['days']:>4} days  {result['source_rows']:>10,} source rows  "
                f"{result['seconds']:>7.2f} s  {result['source_rows_per_second']:>8,} source rows/s  "
                f"{result['records']:>9,} records staged ({result['records_per_second']:,}/s) in "
                f"{result['batches']:>4} batches  peak RSS {result['peak_rss_mb']:.0f} MB"
            )


if __name__ == "__main__":
    raise SystemExit(main())
