"""``make bench-import``: how long a cold worker spends importing ``function_app`` before it can serve.

Each import runs in a fresh interpreter (a cold start imports everything anew),
``--repeat`` times, and the median is compared with importing ``azure.functions``
alone, which every Python Function App pays. The cases take turns, one cold
start each per round, so a busy machine slows them alike rather than whichever
ran last. Triggers build the hub on first use (``functions/app_hub.py``) and
load the API's operations on their first call, so the app's own share is its
start-up settings check (``shared/settings_at_start.py``) and its triggers.

``function_app`` is timed with telemetry off (the exporter settings emptied: in
Azure without ``APPLICATIONINSIGHTS_CONNECTION_STRING`` nothing of OpenTelemetry
is imported) and with the local file exporters ``make run`` uses: either way
the first invocation starts telemetry, not the import.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile

from localdev import services

_TIMED = "import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"


_TELEMETRY_OFF = {
    "APPLICATIONINSIGHTS_CONNECTION_STRING": "",
    "LOCAL_TELEMETRY_FOLDER": "",
    "OTEL_EXPORTER_OTLP_ENDPOINT": "",
}


def seconds(module: str, settings: dict[str, str]) -> float:
    done = subprocess.run(  # noqa: S603 - this interpreter, a fixed statement
        [sys.executable, "-c", _TIMED.format(module=module)],
        cwd=services.REPO,
        env={**os.environ, **settings},
        capture_output=True,
        text=True,
        check=True,
    )
    return float(done.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m localdev.bench.import_time", description=__doc__)
    parser.add_argument("--repeat", type=int, default=15, help="fresh interpreters per import (default 15)")
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        cases = {
            "azure.functions": ("azure.functions", _TELEMETRY_OFF),
            "function_app": ("function_app", _TELEMETRY_OFF),
            "function_app, telemetry to files": (
                "function_app",
                {**_TELEMETRY_OFF, "LOCAL_TELEMETRY_FOLDER": folder},
            ),
        }
        timings: dict[str, list[float]] = {label: [] for label in cases}
        for _ in range(arguments.repeat):
            for label, (module, settings) in cases.items():
                timings[label].append(seconds(module, settings))
    medians = {label: statistics.median(taken) for label, taken in timings.items()}
    for label, median in medians.items():
        print(f"import {label:<34} median {median * 1000:7.1f} ms over {arguments.repeat} cold starts")
    bare = medians["azure.functions"]
    print(f"function_app / azure.functions: {medians['function_app'] / bare:.1f}x (telemetry off)")
    print(
        f"function_app with telemetry files / azure.functions: {medians['function_app, telemetry to files'] / bare:.1f}x"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
