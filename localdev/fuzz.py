"""``make fuzz``: schemathesis against the OpenAPI document a running local host serves.

Needs ``make run`` (or any host) on ``--host``; sends generated requests to
every documented operation with the function key and fails on any 5xx, any
undocumented status, and any answer whose body does not match the schema its
operation documents for that status (``response_schema_conformance``).
``localdev.fuzz_checks`` explains the one answer it lets through: the host's
own bodiless 401. Requests go no faster than the hub's per-caller rate limit,
so the answers are the operations' own, not 429s.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

from shared.settings import Settings

_SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")
_HUB_PER_MINUTE: int = Settings.model_fields["api_rate_limit_per_minute"].default


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="http://127.0.0.1:7071", help="the Functions host's base URL")
    parser.add_argument("--key", required=True, help="a function key (LOCAL_FUNCTION_KEY locally)")
    parser.add_argument("--examples", type=int, default=100, help="generated requests per operation")
    parser.add_argument(
        "--per-minute",
        type=int,
        default=_HUB_PER_MINUTE * 9 // 10,
        help="requests per minute: below the host's API_RATE_LIMIT_PER_MINUTE (the hub's default: "
        f"{_HUB_PER_MINUTE})",
    )
    args = parser.parse_args(argv)
    command = [
        str(_SCHEMATHESIS),
        "run",
        f"{args.host}/api/v1/openapi.json",
        "--url",
        f"{args.host}/api",
        "--header",
        f"x-functions-key: {args.key}",
        "--checks",
        "not_a_server_error,status_code_conformance,content_type_unless_host_refused_key,response_schema_conformance",
        "--max-examples",
        str(args.examples),
        "--rate-limit",
        f"{args.per_minute}/m",
    ]
    hooks = {**os.environ, "SCHEMATHESIS_HOOKS": "localdev.fuzz_checks"}
    return subprocess.run(command, check=False, env=hooks).returncode  # noqa: S603 - our own venv's schemathesis


if __name__ == "__main__":
    sys.exit(main())
