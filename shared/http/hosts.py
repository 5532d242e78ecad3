"""The process's HTTP clients: one pooled client per base URL, one breaker and gate per host.

Functions keeps a worker process alive across invocations, so the composition
root builds one ``HostRegistry`` and every trigger reuses its connections, TLS
sessions, breakers and throttle gates. ``breaker_states`` feeds the health
endpoint.
"""

from __future__ import annotations

import random
import ssl
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import httpx

from shared.http.breaker import CircuitBreaker
from shared.http.client import HostGuard, ResilientClient, Timing
from shared.http.gate import ThrottleGate
from shared.http.policy import HttpPolicy


def _utc_now() -> datetime:
    return datetime.now(UTC)


def tls_verification(verify: bool | Path) -> bool | ssl.SSLContext:
    """What httpx needs to trust a host: the system's CAs, or a PEM bundle (the local sandboxes' CA)."""
    if isinstance(verify, Path):
        return ssl.create_default_context(cafile=str(verify))
    return verify


class HostRegistry:
    """Hands out the one ``ResilientClient`` for each base URL, building it on first use."""

    def __init__(
        self,
        policy: HttpPolicy | None = None,
        *,
        verify: bool | Path = True,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        now: Callable[[], datetime] = _utc_now,
        draw: Callable[[float, float], float] = random.uniform,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._policy = policy or HttpPolicy()
        self._verify = verify
        self._timing = Timing(clock=clock, sleep=sleep, now=now, draw=draw)
        self._transport = transport
        self._lock = threading.Lock()
        self._clients: dict[str, ResilientClient] = {}
        self._guards: dict[str, HostGuard] = {}

    def client(self, base_url: str, *, policy: HttpPolicy | None = None) -> ResilientClient:
        """The client for ``base_url`` (a trailing slash is added so relative paths join under it).

        ``policy`` applies only when this call builds the client; later calls get the same client.
        """
        key = base_url if base_url.endswith("/") else base_url + "/"
        with self._lock:
            existing = self._clients.get(key)
            if existing is not None:
                return existing
            chosen = policy or self._policy
            http = httpx.Client(
                base_url=key,
                verify=tls_verification(self._verify),
                timeout=httpx.Timeout(
                    connect=chosen.connect_timeout_seconds,
                    read=chosen.read_timeout_seconds,
                    write=chosen.read_timeout_seconds,
                    pool=chosen.pool_timeout_seconds,
                ),
                limits=httpx.Limits(
                    max_connections=chosen.max_connections, max_keepalive_connections=chosen.max_connections
                ),
                transport=self._transport,
                follow_redirects=False,
            )
            host = http.base_url.netloc.decode("ascii")
            guard = self._guards.get(host)
            if guard is None:
                breaker = CircuitBreaker(
                    host, chosen.breaker_threshold, chosen.breaker_cooldown_seconds, self._timing.clock
                )
                guard = HostGuard(breaker=breaker, gate=ThrottleGate(self._timing.clock))
                self._guards[host] = guard
            client = ResilientClient(http, guard, chosen, self._timing)
            self._clients[key] = client
            return client

    def breaker_states(self) -> dict[str, str]:
        """Each host's circuit state (closed, open, half_open), for the health endpoint."""
        with self._lock:
            guards = dict(self._guards)
        return {host: guard.breaker.state.value for host, guard in sorted(guards.items())}

    def close(self) -> None:
        with self._lock:
            clients = list(self._clients.values())
            self._clients.clear()
        for client in clients:
            client.close()
