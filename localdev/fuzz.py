"""``make fuzz``: schemathesis against the OpenAPI document the hub serves, with figures to quote.

Sends generated requests, valid and invalid, to every documented operation with
the function key and fails on any 5xx, any undocumented status, any answer
whose body does not match the schema its operation documents for that status
(``response_schema_conformance``), and any request that takes longer than
``--request-timeout`` (a hang). ``localdev.fuzz_checks`` explains the one answer
it lets through: the host's own bodiless 401.

By default (``make fuzz``) it starts a host of its own, on a free port, against
the world a running ``make run`` provides, with the per-caller rate limit
raised out of the way: at the hub's 300 calls a minute, 10,000 requests would
take over half an hour and most answers would be 429s, which judge nothing but
the limiter (tested on its own). ``--host`` fuzzes a host that is already up
instead, paced below its limit. It prints the requests sent (every one, from
the HAR log, the stateful phase's chains included), the 5xx, the check
failures and the timeouts, and exits non-zero if any is not zero or fewer than
``--min-requests`` were sent.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from localdev.own_host import local_values, own_host
from shared.settings import Settings

_SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")
_HUB_PER_MINUTE: int = Settings.model_fields["api_rate_limit_per_minute"].default
CHECKS = "not_a_server_error,status_code_conformance,content_type_unless_host_refused_key,response_schema_conformance"
UNLIMITED = "10000"  # API_RATE_LIMIT_PER_MINUTE on the fuzz's own host: the most the setting takes


@dataclass(frozen=True)
class FuzzFigures:
    requests: int
    server_errors: int
    failures: int  # test cases a check failed on
    timeouts: int
    seconds: float
    operations: int
    exit_code: int

    def held(self, min_requests: int) -> bool:
        clean = self.server_errors == self.failures == self.timeouts == 0
        return clean and self.exit_code == 0 and self.requests >= min_requests

    def line(self) -> str:
        return (
            f"fuzz: {self.requests:,} requests to {self.operations} operations in {self.seconds:.0f} s "
            f"({self.requests / max(self.seconds, 0.001):.1f}/s): {self.server_errors} x 5xx, "
            f"{self.failures} check failures, {self.timeouts} timeouts; schemathesis exit {self.exit_code}"
        )


def figures(run_report: Mapping[str, Any], har: Mapping[str, Any]) -> FuzzFigures:
    """The figures from schemathesis's JSON run report and its HAR log of every exchange."""
    entries = har.get("log", {}).get("entries", [])
    statuses = [int(entry.get("response", {}).get("status", 0)) for entry in entries]
    errors = run_report.get("errors", [])
    timeouts = sum(1 for error in errors if "timeout" in json.dumps(error).lower())
    return FuzzFigures(
        requests=len(entries),
        server_errors=sum(1 for status in statuses if status >= 500),
        failures=int(run_report.get("test_cases", {}).get("with_failures", 0)),
        timeouts=timeouts,
        seconds=float(run_report.get("running_time", 0.0)),
        operations=int(run_report.get("operations", {}).get("tested", 0)),
        exit_code=int(run_report.get("exit_code", 1)),
    )


def fuzz(
    base_url: str,
    key: str,
    *,
    examples: int,
    per_minute: int | None,
    request_timeout: float,
    reports: Path,
    phases: str = "coverage,fuzzing,stateful",
    seed: int | None = None,
) -> FuzzFigures:
    """One schemathesis run against ``base_url``; its figures from the reports it leaves in ``reports``."""
    run_report, har = reports / "run.json", reports / "exchanges.har"
    command = [str(_SCHEMATHESIS), "run", f"{base_url}/api/v1/openapi.json", "--url", f"{base_url}/api"]
    command += ["--header", f"x-functions-key: {key}", "--checks", CHECKS, "--max-examples", str(examples)]
    # One worker: schemathesis 4.32's coverage phase fails with a KeyError inside itself on more than one.
    command += ["--request-timeout", str(request_timeout), "--phases", phases, "--report", "json,har"]
    command += ["--report-json-path", str(run_report), "--report-har-path", str(har)]
    if per_minute is not None:
        command += ["--rate-limit", f"{per_minute}/m"]
    if seed is not None:
        command += ["--seed", str(seed)]
    hooks = {**os.environ, "SCHEMATHESIS_HOOKS": "localdev.fuzz_checks"}
    done = subprocess.run(command, check=False, env=hooks)  # noqa: S603 - our own venv's schemathesis
    if not run_report.exists():
        raise RuntimeError(f"schemathesis wrote no report (exit {done.returncode})")
    return figures(_json(run_report), _json(har) if har.exists() else {})


def _json(path: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return document


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m localdev.fuzz", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--host", help="fuzz this running host (paced below its rate limit) instead of our own"
    )
    parser.add_argument("--key", help="its function key (default: LOCAL_FUNCTION_KEY of local.settings.json)")
    parser.add_argument(
        "--examples", type=int, default=400, help="generated test cases per operation and phase"
    )
    parser.add_argument("--min-requests", type=int, default=10_000, help="fail if fewer requests were sent")
    parser.add_argument(
        "--request-timeout", type=float, default=30.0, help="seconds before a request is a hang"
    )
    parser.add_argument("--seed", type=int, help="schemathesis's seed, to repeat a run")
    parser.add_argument(
        "--workers", type=int, default=4, help="concurrent schemathesis workers (own host only)"
    )
    parser.add_argument(
        "--per-minute",
        type=int,
        default=_HUB_PER_MINUTE * 9 // 10,
        help="with --host: requests per minute, below its API_RATE_LIMIT_PER_MINUTE",
    )
    args = parser.parse_args(argv)
    values = local_values()
    key = args.key or values["LOCAL_FUNCTION_KEY"]
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="hub-fuzz-") as folder:
        run = functools.partial(
            fuzz,
            key=key,
            examples=args.examples,
            request_timeout=args.request_timeout,
            reports=Path(folder),
            seed=args.seed,
        )
        if args.host:
            result = run(args.host, per_minute=args.per_minute)
        else:
            raised = {**values, "API_RATE_LIMIT_PER_MINUTE": UNLIMITED}
            with own_host(raised, Path(folder), "fuzz-host") as base_url:
                result = run(base_url, per_minute=None)
    print(result.line())
    print(f"fuzz: {time.monotonic() - started:.0f} s in all; needed >= {args.min_requests:,} requests")
    return 0 if result.held(args.min_requests) else 1


if __name__ == "__main__":
    sys.exit(main())
