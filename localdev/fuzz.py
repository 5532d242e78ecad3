"""``make fuzz``: schemathesis against the OpenAPI document a running local host serves.

Needs ``make run`` (or any host) on ``--host``; sends generated requests to
every documented operation with the function key and fails on any 5xx or any
answer that does not match its documented schema. ``localdev.fuzz_checks``
explains the one answer it lets through: the host's own bodiless 401.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

_SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="http://127.0.0.1:7071", help="the Functions host's base URL")
    parser.add_argument("--key", required=True, help="a function key (LOCAL_FUNCTION_KEY locally)")
    parser.add_argument("--examples", type=int, default=100, help="generated requests per operation")
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
    ]
    hooks = {**os.environ, "SCHEMATHESIS_HOOKS": "localdev.fuzz_checks"}
    return subprocess.run(command, check=False, env=hooks).returncode  # noqa: S603 - our own venv's schemathesis


if __name__ == "__main__":
    sys.exit(main())
