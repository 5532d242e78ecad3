"""Failures a sandbox can be switched into: an outage for a while, and named faults by count or share.

Tests that prove the hub survives a downstream outage need the outage to end
on its own while the hub is busy retrying, so the switch takes a duration;
``None`` keeps the sandbox down until a test switches it back. Other faults
(a broken answer, a late one) strike the next N requests or a seeded share of
them, like the sandbox throttle's ``fraction``, so a test can say exactly how
many the hub must survive.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any


class OutageSwitch:
    """Whether a sandbox is down now; safe to flip from the admin endpoint while requests are served."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._down = False
        self._until: float | None = None

    def begin(self, seconds: float | None) -> None:
        """Go down for ``seconds`` (``None``: until ``end``); zero or less means back up now."""
        with self._lock:
            if seconds is not None and seconds <= 0:
                self._down, self._until = False, None
                return
            self._down = True
            self._until = None if seconds is None else self._clock() + seconds

    def end(self) -> None:
        self.begin(0)

    def remaining(self) -> float | None:
        """Seconds the outage still lasts; ``None`` when it lasts until switched back; 0 when up."""
        with self._lock:
            if not self._down:
                return 0.0
            if self._until is None:
                return None
            left = self._until - self._clock()
            if left <= 0:
                self._down, self._until = False, None
                return 0.0
            return left

    @property
    def down(self) -> bool:
        return self.remaining() != 0.0


@dataclass(frozen=True)
class FaultSetting:
    """How often one fault strikes: the next ``count`` requests, and/or a seeded ``fraction`` of them."""

    count: int = 0
    fraction: float = 0.0
    seed: int = 0

    @classmethod
    def from_json(cls, document: Mapping[str, Any]) -> FaultSetting:
        count, fraction, seed = (
            document.get("count", 0),
            document.get("fraction", 0.0),
            document.get("seed", 0),
        )
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise ValueError("count must be a whole number of requests, 0 or more")
        if isinstance(fraction, bool) or not isinstance(fraction, int | float) or not 0 <= fraction <= 1:
            raise ValueError("fraction must be a number from 0 to 1")
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise ValueError("seed must be a whole number")
        return cls(count, float(fraction), seed)


class FaultSwitches:
    """Named failures a sandbox injects, each on for a count of requests or a seeded share of them.

    The sandbox decides what each name means (an HTML 500, a 413, a late answer...);
    this only decides, request by request, whether it strikes. Counts are used up
    first; a fraction keeps striking until switched off. Thread-safe.
    """

    def __init__(self, names: frozenset[str]) -> None:
        self.names = names
        self._lock = threading.Lock()
        self._settings: dict[str, FaultSetting] = {}
        self._left: dict[str, int] = {}
        self._dice: dict[str, random.Random] = {}
        self.struck: dict[str, int] = {}

    def configure(self, name: str, setting: FaultSetting) -> None:
        if name not in self.names:
            raise ValueError(f"unknown fault {name!r}; known: {', '.join(sorted(self.names))}")
        with self._lock:
            self._settings[name] = setting
            self._left[name] = setting.count
            self._dice[name] = random.Random(setting.seed)

    def strikes(self, name: str) -> bool:
        """Whether this request meets the fault ``name``; uses up one of its count."""
        with self._lock:
            setting = self._settings.get(name)
            if setting is None:
                return False
            if self._left[name] > 0:
                self._left[name] -= 1
            elif not (setting.fraction and self._dice[name].random() < setting.fraction):
                return False
            self.struck[name] = self.struck.get(name, 0) + 1
            return True

    def clear(self) -> None:
        with self._lock:
            self._settings.clear()
            self._left.clear()
            self._dice.clear()
            self.struck.clear()

    def as_json(self) -> dict[str, Any]:
        with self._lock:
            return {
                name: {
                    "countLeft": self._left[name],
                    "fraction": setting.fraction,
                    "struck": self.struck.get(name, 0),
                }
                for name, setting in self._settings.items()
            }
