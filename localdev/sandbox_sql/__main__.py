"""``python -m localdev.sandbox_sql --folder .local/sandbox-sql``: (re)build the sandbox SQL Server."""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path

from localdev.sandbox_sql.build import (
    DEFAULT_DAYS,
    DEFAULT_EMPLOYEES_PER_SITE,
    DEFAULT_END_DATE,
    DEFAULT_SEED,
    DEFAULT_SITES,
    build_sandbox,
)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m localdev.sandbox_sql", description=__doc__)
    parser.add_argument(
        "--folder", type=Path, default=Path(".local/sandbox-sql"), help="where the databases go (rebuilt)"
    )
    parser.add_argument(
        "--sites", type=int, default=DEFAULT_SITES, help=f"customer sites (default {DEFAULT_SITES})"
    )
    parser.add_argument("--days", type=int, default=DEFAULT_DAYS, help="payroll days up to --end-date")
    parser.add_argument(
        "--seed", type=int, default=DEFAULT_SEED, help="random seed: the same seed builds the same world"
    )
    parser.add_argument(
        "--end-date",
        type=date.fromisoformat,
        default=DEFAULT_END_DATE,
        help=f"the world's last day, yyyy-mm-dd (default {DEFAULT_END_DATE})",
    )
    parser.add_argument(
        "--employees-per-site",
        type=int,
        default=DEFAULT_EMPLOYEES_PER_SITE,
        help="average Legion staff per site; ~270 gives production's ~150k payroll rows a day",
    )
    arguments = parser.parse_args(argv)
    summary = build_sandbox(
        arguments.folder,
        sites=arguments.sites,
        days=arguments.days,
        seed=arguments.seed,
        end_date=arguments.end_date,
        employees_per_site=arguments.employees_per_site,
    )
    size = sum(path.stat().st_size for path in summary.folder.glob("*.sqlite"))
    print(f"sandbox SQL Server in {summary.folder} ({size / 2**20:,.0f} MiB, {summary.seconds} s)")
    print(f"  url: {summary.url}")
    for table, rows in summary.rows.items():
        print(f"  {table:<45} {rows:>12,}")


if __name__ == "__main__":
    main()
