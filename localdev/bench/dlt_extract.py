"""dlt's side of ``make bench-vs-dlt``: the same SQLite source through dlt's ``sql_table`` with its pyarrow backend.

It runs in the bench virtualenv (``.bench-venv``, ``requirements-bench.txt``),
never in the hub's: dlt is the yardstick, not a dependency. It imports nothing
of the hub, only dlt and the standard library, and prints one JSON line like
``localdev.bench.extract`` does: rows, seconds, rows per second, the
process's CPU seconds and its peak RSS.

The pipeline is dlt's documented fast path for a SQL table: ``backend="pyarrow"``
(rows fetched as tuples and turned into Arrow tables a chunk at a time) to the
``filesystem`` destination in a local folder as parquet, in a pipeline folder of
its own. Timed is ``pipeline.run``: extract, normalize and load, dlt's
equivalent of the hub's extract → validate → stage.
"""

from __future__ import annotations

import argparse
import json
import resource
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m localdev.bench.dlt_extract", description=__doc__)
    parser.add_argument("--source", required=True, help="sqlite URL of the synthetic source")
    parser.add_argument("--table", default="PAYROLL_LINES", help="the source table")
    parser.add_argument("--chunk-size", type=int, default=5000, help="rows per fetch (the hub's page)")
    arguments = parser.parse_args()
    # Imported after the arguments: dlt is in the bench venv only, and --help must answer anywhere.
    import dlt
    from dlt.sources.sql_database import sql_table

    with tempfile.TemporaryDirectory(prefix="bench-dlt-") as folder:
        root = Path(folder)
        pipeline = dlt.pipeline(
            pipeline_name="bench_payroll_lines",
            pipelines_dir=str(root / "pipelines"),
            destination=dlt.destinations.filesystem(bucket_url=(root / "files").as_uri()),
            dataset_name="bench",
            progress=None,
        )
        table = sql_table(
            credentials=arguments.source,
            table=arguments.table,
            backend="pyarrow",
            chunk_size=arguments.chunk_size,
        )
        started, cpu_started = time.perf_counter(), time.process_time()
        pipeline.run(table, loader_file_format="parquet", write_disposition="replace")
        seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
        rows = pipeline.last_trace.last_normalize_info.row_counts[arguments.table.lower()]
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "rows": rows,
                "seconds": round(seconds, 2),
                "cpu_seconds": round(cpu_seconds, 2),
                "rows_per_second": round(rows / seconds),
                "peak_rss_mb": round(peak_mb, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
