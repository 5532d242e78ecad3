"""``make chaos``: ``python -m localdev.chaos --records 1000000 --seed 20261203 --statements 200``."""

from __future__ import annotations

import argparse
import signal
import tempfile
from contextlib import ExitStack
from pathlib import Path

from localdev.chaos.runner import run_chaos
from localdev.chaos.schedule import make_schedule

DEFAULT_SEED = 20261203


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m localdev.chaos", description=__doc__)
    parser.add_argument("--records", type=int, default=1_000_000, help="rows in the stream's source")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="the scenario: same seed, same faults")
    parser.add_argument("--statements", type=int, default=200, help="billing statements posted to GP")
    parser.add_argument("--host-kills", type=int, default=3, help="how often the Functions host is SIGKILLed")
    parser.add_argument("--batch-rows", type=int, help="rows per staged batch (default: the stream's own)")
    parser.add_argument("--keep", type=Path, help="run in this folder and keep it (logs, stores) afterwards")
    arguments = parser.parse_args(argv)
    schedule = make_schedule(arguments.seed, arguments.host_kills)
    # A stop from a tool (SIGTERM) unwinds as Ctrl-C does, so the world's services are stopped, not orphaned.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        with ExitStack() as stack:
            root = arguments.keep or Path(
                stack.enter_context(tempfile.TemporaryDirectory(prefix="hub-chaos-"))
            )
            root.mkdir(parents=True, exist_ok=True)
            held = run_chaos(root, arguments.records, schedule, arguments.statements, arguments.batch_rows)
    except KeyboardInterrupt:
        print("chaos: stopped before the proof; the world's services are stopped", flush=True)
        return 130
    return 0 if held else 1


if __name__ == "__main__":
    raise SystemExit(main())
