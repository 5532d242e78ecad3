"""Is the hub able to work right now? Each dependency checked in parallel, each within a deadline.

This is readiness (``GET /api/health/ready``); liveness (``GET /api/health``)
calls nothing. The Azure SDKs retry for a long time when a service is down; a
readiness probe must not wait for that. A check that has not answered by the
deadline is reported down with "no answer", and its thread is left to finish on
its own. Each dependency's milliseconds are its own check's, timed in its
thread, so a slow one does not make the others look slow.
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
    futures = {name: _checks.submit(_timed, check) for name, check in checks.items()}
    statuses = []
    for name, future in futures.items():
        remaining = max(0.0, deadline_seconds - (time.monotonic() - started))
        try:
            seconds, error = future.result(timeout=remaining)
        except FutureTimeout:
            detail = f"no answer within {deadline_seconds:g} s"
            statuses.append(DependencyStatus(name, False, detail, int(deadline_seconds * 1000)))
            continue
        detail = "ok" if error is None else f"{type(error).__name__}: {_first_line(error)}"
        statuses.append(DependencyStatus(name, error is None, detail, int(seconds * 1000)))
    return HealthReport(tuple(statuses))


def _timed(check: Callable[[], None]) -> tuple[float, Exception | None]:
    """How long the check took, and what it raised: any failure means the dependency is down."""
    started = time.monotonic()
    try:
        check()
    except Exception as error:  # noqa: BLE001 - reported as the dependency's detail
        return time.monotonic() - started, error
    return time.monotonic() - started, None


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0][:200] if text else "failed"
