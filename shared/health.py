"""Is the hub able to work right now? Each dependency checked in parallel, each within a deadline.

The Azure SDKs retry for a long time when a service is down; an admin's health
probe must not wait for that. A check that has not answered by the deadline is
reported down with "no answer", and its thread is left to finish on its own.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass

_checks = ThreadPoolExecutor(max_workers=8, thread_name_prefix="health")


@dataclass(frozen=True)
class DependencyStatus:
    name: str
    ok: bool
    detail: str
    milliseconds: int


@dataclass(frozen=True)
class HealthReport:
    dependencies: tuple[DependencyStatus, ...]

    @property
    def ok(self) -> bool:
        return all(dependency.ok for dependency in self.dependencies)

    def to_json(self) -> dict[str, object]:
        return {
            "status": "ok" if self.ok else "down",
            "dependencies": {
                dependency.name: {
                    "status": "ok" if dependency.ok else "down",
                    "detail": dependency.detail,
                    "ms": dependency.milliseconds,
                }
                for dependency in self.dependencies
            },
        }


def check_dependencies(checks: Mapping[str, Callable[[], None]], deadline_seconds: float) -> HealthReport:
    """Run every check at once; a check passes when it returns and fails when it raises or is late."""
    started = time.monotonic()
    futures = {name: _checks.submit(check) for name, check in checks.items()}
    statuses = []
    for name, future in futures.items():
        remaining = max(0.0, deadline_seconds - (time.monotonic() - started))
        try:
            future.result(timeout=remaining)
            ok, detail = True, "ok"
        except FutureTimeout:
            ok, detail = False, f"no answer within {deadline_seconds:g} s"
        except Exception as error:  # noqa: BLE001 - any failure means the dependency is down
            ok, detail = False, f"{type(error).__name__}: {_first_line(error)}"
        elapsed = int((time.monotonic() - started) * 1000)
        statuses.append(DependencyStatus(name, ok, detail, elapsed))
    return HealthReport(tuple(statuses))


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0][:200] if text else "failed"
