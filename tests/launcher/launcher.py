"""``python -m tests.launcher.launcher SPECS.json``: ``make run``'s supervision over the services a test names.

``localdev/run.py`` starts a fixed world on fixed ports; this starts the
services in ``SPECS.json`` (free ports, temp folders) and then does exactly
what ``make run`` does with them: ``Supervisor.run``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from localdev import services
from localdev.supervisor import Supervisor


def write_specs(path: Path, specs: list[services.ServiceSpec]) -> Path:
    path.write_text(
        json.dumps(
            [
                {
                    "name": spec.name,
                    "command": list(spec.command),
                    "port": spec.port,
                    "log_file": str(spec.log_file) if spec.log_file else None,
                    "env": dict(spec.env),
                    "stop_seconds": spec.stop_seconds,
                }
                for spec in specs
            ]
        ),
        encoding="utf-8",
    )
    return path


def read_specs(path: Path) -> list[services.ServiceSpec]:
    return [
        services.ServiceSpec(
            name=item["name"],
            command=item["command"],
            port=item["port"],
            log_file=Path(item["log_file"]) if item["log_file"] else None,
            env=item["env"],
            stop_seconds=item["stop_seconds"],
        )
        for item in json.loads(path.read_text(encoding="utf-8"))
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.launcher.launcher", description=__doc__)
    parser.add_argument("specs", type=Path, help="JSON list of the services to start (see write_specs)")
    specs = read_specs(parser.parse_args(argv).specs)
    supervisor = Supervisor()

    def start_world() -> None:
        for spec in specs:
            supervisor.start(spec)

    return supervisor.run(start_world, "The hub is running. Ctrl-C stops everything.")


if __name__ == "__main__":
    raise SystemExit(main())
