"""``python -m localdev.functions_host [--app-dir .] [--port 7071] [--settings local.settings.json] [--drain-seconds 60]``."""

from __future__ import annotations

import argparse
from pathlib import Path

from localdev.functions_host.host import DRAIN_SECONDS, HostOptions, run


def main() -> int:
    parser = argparse.ArgumentParser(
        prog="python -m localdev.functions_host",
        description="Serve a Functions app's HTTP, timer and Service Bus triggers without Core Tools.",
    )
    parser.add_argument("--app-dir", type=Path, default=Path("."), help="folder holding function_app.py")
    parser.add_argument("--port", type=int, default=7071, help="HTTP port on 127.0.0.1 (default 7071)")
    parser.add_argument(
        "--settings",
        type=Path,
        default=Path("local.settings.json"),
        help="local settings file; a relative path is read from the app folder",
    )
    parser.add_argument(
        "--drain-seconds",
        type=float,
        default=DRAIN_SECONDS,
        help=f"on a stop signal, how long running invocations may finish (default {DRAIN_SECONDS:g})",
    )
    arguments = parser.parse_args()
    app_dir = arguments.app_dir.resolve()
    return run(HostOptions(app_dir, arguments.port, app_dir / arguments.settings, arguments.drain_seconds))


if __name__ == "__main__":
    raise SystemExit(main())
