"""``python -m localdev.sandbox_gp --port 7082 --data .local/gp``: SmartConnect over HTTP and GP company tables.

``--company`` (repeatable) creates a company database; ``--accounts FILE``
seeds its chart with one account string per line. ``POST /admin/payments``
with ``{"company", "document", "amount"}`` applies a cash receipt to an open
invoice (see ``company.apply_payment``). ``/admin/mode`` and ``/admin/faults``
make it misbehave (see ``smartconnect`` and ``faults``).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import uvicorn

from localdev.dropped_connection import DroppingH11Protocol
from localdev.sandbox_gp.company import open_company, seed_accounts
from localdev.sandbox_gp.smartconnect import DEFAULT_PATH, build_app

# How long an idle connection is kept open: IIS's default (SmartConnect's web service runs on IIS).
# uvicorn's own 5 s is httpx's pool expiry too, so both ends could give up an idle connection at the
# same moment, and a posting sent on it just then could be reset; the client must be the one to close first.
KEEP_ALIVE_SECONDS = 120


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m localdev.sandbox_gp", description=__doc__)
    parser.add_argument("--port", type=int, default=7082, help="loopback HTTP port (default 7082)")
    parser.add_argument("--data", type=Path, required=True, help="folder of the company databases")
    parser.add_argument("--company", action="append", default=[], help="company to create (e.g. TOWNE)")
    parser.add_argument("--accounts", type=Path, help="file of account strings for every --company's chart")
    parser.add_argument("--batch-id-limit", type=int, help="longest batch id GP accepts (default: no limit)")
    parser.add_argument("--path", default=DEFAULT_PATH, help=f"SOAP endpoint path (default {DEFAULT_PATH})")
    options = parser.parse_args(argv)
    for company in options.company:
        open_company(options.data, company).close()
        if options.accounts:
            seed_accounts(options.data, company, options.accounts.read_text().split())
    app = build_app(options.data, batch_id_limit=options.batch_id_limit, path=options.path)
    uvicorn.run(
        app,
        host="127.0.0.1",
        port=options.port,
        log_level="warning",
        http=DroppingH11Protocol,
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
