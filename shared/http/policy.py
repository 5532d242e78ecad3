"""The numbers that govern how hard the hub leans on a downstream host, in one frozen value."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class HttpPolicy:
    """Retry, time-out and circuit-breaker settings for calls to one host.

    ``budget_seconds`` caps the whole call, waits included, so a Service Bus
    handler gives its message back well before the lock or the function time-out
    expires. Waits are exponential with full jitter (``base_seconds`` doubling,
    never above ``cap_seconds``) unless the host sent ``Retry-After``.
    """

    max_attempts: int = 6
    base_seconds: float = 0.5
    cap_seconds: float = 30.0
    budget_seconds: float = 120.0
    breaker_threshold: int = 5
    breaker_cooldown_seconds: float = 30.0
    connect_timeout_seconds: float = 10.0
    read_timeout_seconds: float = 120.0
    pool_timeout_seconds: float = 30.0
    max_connections: int = 64

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if not 0 < self.base_seconds <= self.cap_seconds:
            raise ValueError("base_seconds must be positive and no more than cap_seconds")
        if self.budget_seconds <= 0 or self.breaker_cooldown_seconds <= 0:
            raise ValueError("budget_seconds and breaker_cooldown_seconds must be positive")
        if self.breaker_threshold < 1:
            raise ValueError("breaker_threshold must be at least 1")
