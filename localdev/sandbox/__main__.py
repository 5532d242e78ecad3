"""``python -m localdev.sandbox --port 7081 --data .local/sandbox``: Entra ID and Dataverse over HTTPS.

TLS comes from the local CA (``localdev/local_ca.py``) in ``--certs`` (default
``<data>/certs``); clients trust its ``local-ca.pem``. Rows, the signing key and
the certificates stay in the data folder across restarts.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import uvicorn

from localdev.dropped_connection import DroppingH11Protocol
from localdev.local_ca import server_certificate
from localdev.sandbox.app import SandboxConfig, build_sandbox
from localdev.sandbox.dataverse.collation import DEFAULT_COLLATION, Collation
from localdev.sandbox.dataverse.protection import DOCUMENTED_WINDOW_SECONDS, ThrottleSettings
from localdev.sandbox.dataverse.schema import DEFAULT_TABLES, SchemaError
from localdev.sandbox.dataverse.service_endpoint import DEFAULT_STEPS, load_steps
from localdev.sandbox.dataverse.webapi import DEFAULT_CHANGE_TRACKING_SECONDS
from localdev.sandbox.directory import DEFAULT_DIRECTORY, DirectoryError
from localdev.sandbox.identity import DEFAULT_TOKEN_LIFETIME_SECONDS


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m localdev.sandbox", description=__doc__)
    parser.add_argument("--port", type=int, default=7081, help="loopback HTTPS port (default 7081)")
    parser.add_argument("--data", type=Path, required=True, help="folder for rows, signing key, certificates")
    parser.add_argument("--certs", type=Path, help="folder of the local CA and server certificate")
    parser.add_argument(
        "--directory", type=Path, default=DEFAULT_DIRECTORY, help="tenant, clients, resources"
    )
    parser.add_argument("--tables", type=Path, default=DEFAULT_TABLES, help="tables and alternate keys")
    parser.add_argument("--org-url", help="the environment's URL (default https://127.0.0.1:<port>)")
    parser.add_argument(
        "--token-lifetime", type=int, default=DEFAULT_TOKEN_LIFETIME_SECONDS, help="access token seconds"
    )
    parser.add_argument("--throttle-fraction", type=float, default=0.0, help="share of requests answered 429")
    parser.add_argument("--throttle-seed", type=int, default=0, help="seed choosing the throttled requests")
    parser.add_argument("--throttle-limit", type=int, help="requests allowed per window before 429")
    parser.add_argument(
        "--throttle-window", type=float, default=DOCUMENTED_WINDOW_SECONDS, help="window seconds"
    )
    parser.add_argument("--throttle-retry-after", type=int, help="Retry-After seconds on a 429")
    parser.add_argument(
        "--collation",
        choices=[collation.value for collation in Collation],
        default=DEFAULT_COLLATION.value,
        help="key and filter comparison (default CI_AI, English (US))",
    )
    parser.add_argument(
        "--change-tracking-days",
        type=float,
        default=DEFAULT_CHANGE_TRACKING_SECONDS / 86400,
        help="how long a delta token stays usable (default 7, Dataverse's ExpireChangeTrackingInDays)",
    )
    parser.add_argument(
        "--service-bus-connection",
        help="Service Bus connection string the service endpoint posts events to (default: it posts none)",
    )
    parser.add_argument(
        "--steps", type=Path, help=f"steps registered on the service endpoint (e.g. {DEFAULT_STEPS.name})"
    )
    parser.add_argument(
        "--salesforce-seed", type=int, help="seed the Salesforce org with a generated pipeline (e.g. 18)"
    )
    parser.add_argument("--log-level", default="warning", help="uvicorn log level (info shows every request)")
    args = parser.parse_args(argv)
    try:
        throttle = ThrottleSettings.from_json(
            {
                "limit": args.throttle_limit,
                "window_seconds": args.throttle_window,
                "retry_after": args.throttle_retry_after,
                "fraction": args.throttle_fraction,
                "seed": args.throttle_seed,
            }
        )
        config = SandboxConfig(
            port=args.port,
            data=args.data,
            org_url=args.org_url,
            directory=args.directory,
            tables=args.tables,
            token_lifetime_seconds=args.token_lifetime,
            throttle=throttle,
            collation=Collation(args.collation),
            change_tracking_seconds=args.change_tracking_days * 86400,
            service_bus_connection=args.service_bus_connection,
            steps=tuple(load_steps(args.steps)) if args.steps else (),
            salesforce_seed=args.salesforce_seed,
        )
        sandbox = build_sandbox(config)
    except (DirectoryError, SchemaError, ValueError) as error:
        print(f"sandbox: {error}", file=sys.stderr)
        return 2
    certificate = server_certificate(args.certs or args.data / "certs")
    print(
        f"Sandbox listening on {config.base_url}: Entra ID authority {sandbox.identity.authority}, "
        f"Dataverse {config.environment_url}/api/data/v9.2/, CA bundle {certificate.ca_bundle}",
        flush=True,
    )
    uvicorn.run(
        sandbox.app,
        host="127.0.0.1",
        port=args.port,
        ssl_certfile=str(certificate.cert_chain),
        ssl_keyfile=str(certificate.private_key),
        log_level=args.log_level,
        http=DroppingH11Protocol,
        access_log=args.log_level in ("debug", "trace", "info"),
        # An idle keep-alive client never answers TLS close_notify; don't wait on it to stop.
        timeout_graceful_shutdown=2,
        # Longer than the hub's 5 s pool expiry, so the client is the end that closes an idle connection
        # (uvicorn's own 5 s races it, as sandbox GP's did); Azure's front ends keep them for minutes.
        timeout_keep_alive=120,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
