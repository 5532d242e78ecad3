"""``make bench-import``: how long a cold worker spends importing ``function_app`` before it can serve.

Each import runs in a fresh interpreter (a cold start imports everything anew),
``--repeat`` times, and the median is compared with importing ``azure.functions``
alone, which every Python Function App pays. Triggers build the hub on first use
(``functions/app_hub.py``), so the app's own share is its settings check and
its operations table.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys

from localdev import services

_TIMED = "import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"


def seconds(module: str) -> float:
    done = subprocess.run(  # noqa: S603 - this interpreter, a fixed statement
        [sys.executable, "-c", _TIMED.format(module=module)],
        cwd=services.REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    return float(done.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m localdev.bench.import_time", description=__doc__)
    parser.add_argument("--repeat", type=int, default=15, help="fresh interpreters per import (default 15)")
    arguments = parser.parse_args()
    medians = {}
    for module in ("azure.functions", "function_app"):
        medians[module] = statistics.median(seconds(module) for _ in range(arguments.repeat))
        print(
            f"import {module:<16} median {medians[module] * 1000:7.1f} ms over {arguments.repeat} cold starts"
        )
    print(f"function_app / azure.functions: {medians['function_app'] / medians['azure.functions']:.1f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
