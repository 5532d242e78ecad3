"""``make load``: Locust against a host of its own over ``make run``'s world, limiter on and off, 50 and 200 users.

For each scenario the host starts with the rate limiter as configured (on: the
hub's 300 calls a minute per caller, and every simulated flow shares one key,
so 429s are expected and counted) or raised to its maximum (off: 10,000 a
minute), and Locust ramps to each user count and holds it for ``--seconds``.
It prints, per operation: requests, p50 / p95 / p99 in ms, 429s, 5xx and
transport errors, then checks the goals: no 5xx anywhere, and the p95 of the
status reads (``GetRun``, ``GetGpPosting``) under 200 ms at 50 users.

Locust runs from ``.load-venv`` (the Makefile creates it), so neither it nor
gevent is a dependency of the hub.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from localdev import services
from localdev.own_host import local_values, own_host
from localdev.run import SQL_SANDBOX

LOCUSTFILE = Path(__file__).with_name("locustfile.py")
LOCUST = services.REPO / ".load-venv" / "bin" / "locust"
STATUS_READS = ("GetRun", "GetGpPosting")
STATUS_READ_P95_MS = 200
LIMITER_OFF = "10000"  # the most API_RATE_LIMIT_PER_MINUTE takes


@dataclass(frozen=True)
class OperationFigures:
    name: str
    requests: int
    p50: float
    p95: float
    p99: float
    throttled: int
    server_errors: int
    transport_errors: int


def read_figures(stats_csv: Path, statuses: dict[str, dict[str, int]]) -> list[OperationFigures]:
    """Locust's per-operation percentiles joined with the statuses the locustfile tallied."""
    figures = []
    with stats_csv.open(newline="", encoding="utf-8") as file:
        for row in csv.DictReader(file):
            name = row["Name"]
            if name == "Aggregated":
                continue
            counted = statuses.get(name, {})
            figures.append(
                OperationFigures(
                    name=name,
                    requests=int(row["Request Count"]),
                    p50=float(row["50%"]),
                    p95=float(row["95%"]),
                    p99=float(row["99%"]),
                    throttled=counted.get("429", 0),
                    server_errors=sum(
                        n for status, n in counted.items() if status.isdigit() and int(status) >= 500
                    ),
                    transport_errors=counted.get("error", 0) + counted.get("0", 0),
                )
            )
    return sorted(figures, key=lambda figure: figure.name)


def sandbox_sites_and_month(count: int = 20) -> tuple[list[str], str]:
    """Sites of the sandbox EDW and the latest month Legion has payroll for, for the live reads."""
    with closing(sqlite3.connect(SQL_SANDBOX / "TP_EDW.sqlite")) as edw:
        sites = [
            row[0]
            for row in edw.execute("SELECT SITE FROM MASTER_NON_FINANCIAL ORDER BY SITE LIMIT ?", (count,))
        ]
    with closing(sqlite3.connect(SQL_SANDBOX / "TP_LEGION.sqlite")) as legion:
        (latest,) = legion.execute("SELECT MAX(DATE) FROM vwPAYROLL_SUMMARY").fetchone()
    return sites, str(latest)[:7].replace("-", "")


def _locust(
    base_url: str, users: int, seconds: int, folder: Path, env: dict[str, str]
) -> list[OperationFigures]:
    prefix, statuses = folder / f"u{users}", folder / f"u{users}-statuses.json"
    command = [str(LOCUST), "-f", str(LOCUSTFILE), "--headless", "--host", base_url, "--users", str(users)]
    command += ["--spawn-rate", str(max(users // 10, 1)), "--run-time", f"{seconds}s", "--csv", str(prefix)]
    command += ["--only-summary", "--loglevel", "WARNING", "--stop-timeout", "10"]
    with (folder / f"u{users}-locust.log").open("wb") as log:
        subprocess.run(  # noqa: S603 - the load venv's locust, fixed arguments
            command,
            check=False,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, **env, "HUB_LOAD_STATUSES": str(statuses)},
        )
    counted = json.loads(statuses.read_text(encoding="utf-8")) if statuses.exists() else {}
    return read_figures(Path(f"{prefix}_stats.csv"), counted)


def _table(scenario: str, users: int, figures: list[OperationFigures]) -> str:
    lines = [f"\n{scenario}, {users} users"]
    lines.append(
        f"  {'operation':<28}{'requests':>9}{'p50 ms':>8}{'p95 ms':>8}{'p99 ms':>8}{'429':>7}{'5xx':>5}{'err':>5}"
    )
    for f in figures:
        lines.append(
            f"  {f.name:<28}{f.requests:>9}{f.p50:>8.0f}{f.p95:>8.0f}{f.p99:>8.0f}"
            f"{f.throttled:>7}{f.server_errors:>5}{f.transport_errors:>5}"
        )
    return "\n".join(lines)


def goals_met(results: dict[tuple[str, int], list[OperationFigures]]) -> list[str]:
    """The goals each scenario missed, in words; empty when all held."""
    missed = []
    for (scenario, users), figures in results.items():
        for figure in figures:
            if figure.server_errors or figure.transport_errors:
                missed.append(
                    f"{scenario}, {users} users: {figure.name} had {figure.server_errors} x 5xx and "
                    f"{figure.transport_errors} unanswered"
                )
            if users == 50 and figure.name in STATUS_READS and figure.p95 >= STATUS_READ_P95_MS:
                missed.append(
                    f"{scenario}, 50 users: {figure.name} p95 {figure.p95:.0f} ms >= {STATUS_READ_P95_MS}"
                )
    return missed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m localdev.load", description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, nargs="+", default=[50, 200], help="user counts to ramp to")
    parser.add_argument("--seconds", type=int, default=60, help="how long each user count is held")
    arguments = parser.parse_args(argv)
    if not LOCUST.exists():
        print(f"{LOCUST} is missing: run `make load`, which creates .load-venv", file=sys.stderr)
        return 2
    values = local_values()
    sites, period = sandbox_sites_and_month()
    env = {
        "HUB_LOAD_KEY": values["LOCAL_FUNCTION_KEY"],
        "HUB_LOAD_SITES": ",".join(sites),
        "HUB_LOAD_PERIOD": period,
    }
    results: dict[tuple[str, int], list[OperationFigures]] = {}
    with tempfile.TemporaryDirectory(prefix="hub-load-") as folder:
        for scenario, limit in (("limiter on", None), ("limiter off", LIMITER_OFF)):
            settings = values if limit is None else {**values, "API_RATE_LIMIT_PER_MINUTE": limit}
            with own_host(settings, Path(folder), "load-host") as base_url:
                for users in arguments.users:
                    run_folder = Path(folder) / f"{scenario.replace(' ', '-')}"
                    run_folder.mkdir(exist_ok=True)
                    results[(scenario, users)] = _locust(base_url, users, arguments.seconds, run_folder, env)
                    print(_table(scenario, users, results[(scenario, users)]), flush=True)
    missed = goals_met(results)
    print(
        "\ngoals: "
        + ("held (0 x 5xx; status reads p95 < 200 ms at 50 users)" if not missed else "; ".join(missed))
    )
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
