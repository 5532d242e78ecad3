"""Calls to one downstream host that survive its bad moments without making them worse.

Each call is retried (tenacity: predicate + wait + stop) when the error table
says its failure is worth retrying, waiting as the host's ``Retry-After`` asks
or with capped, fully jittered exponential backoff, within a total time budget.
Retry safety follows idempotency, as in azure-core: a request that was never
sent (connection refused, no pooled connection free) may always be sent again;
one whose response was lost (a read time-out) is sent again only when the
caller says repeating it is harmless. The host's circuit breaker and throttle
gate are shared by every client of that host. Auth headers are asked for on
every attempt, so a token refreshed between attempts is the one that is sent.

``send`` returns a success or a failure the caller must interpret (a 4xx such
as 404 or 412); a failure the error table calls transient or throttled that
outlives the retries is raised as a ``HubError`` of that class.

Inside the work's deadline (``shared.deadline``), no retry wait, wait at the
throttle gate or request time-out reaches past it: the call gives up as it
would after its last retry, with a transient ``HubError``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

import httpx
import tenacity
from opentelemetry import trace

from shared import deadline
from shared.errors import (
    ERROR_ACTIONS,
    CircuitOpenError,
    ErrorClass,
    HubError,
    ThrottledError,
    classify_exception,
    classify_status,
)
from shared.http.backoff import FullJitter, parse_retry_after
from shared.http.breaker import CircuitBreaker
from shared.http.gate import ThrottleGate
from shared.http.policy import HttpPolicy
from shared.telemetry import meters, names
from shared.telemetry.spans import SpanKind, span

log = logging.getLogger(__name__)

_IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"})
# A server sends these when it did not act on the request, so even a POST may go again.
_NOT_ACTED_ON = frozenset({408, 429})
# The request never left the client: no connection, or no free connection in the pool.
_NEVER_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
_RETRYABLE_CLASSES = frozenset(cls for cls, action in ERROR_ACTIONS.items() if action.retry)


@dataclass(frozen=True)
class HostGuard:
    """What every client of one host shares: its breaker and its throttle gate."""

    breaker: CircuitBreaker
    gate: ThrottleGate


@dataclass(frozen=True)
class Timing:
    """The clocks and dice a client uses; tests pass fakes so retries run instantly."""

    clock: Callable[[], float]
    sleep: Callable[[float], None]
    now: Callable[[], datetime]
    draw: Callable[[float, float], float]


class ResilientClient:
    """One pooled ``httpx.Client`` for a base URL, with the host's retry rules around every call."""

    def __init__(self, http: httpx.Client, guard: HostGuard, policy: HttpPolicy, timing: Timing) -> None:
        self._http = http
        self._guard = guard
        self._policy = policy
        self._timing = timing
        self._jitter = FullJitter(policy.base_seconds, policy.cap_seconds, timing.draw)

    @property
    def base_url(self) -> str:
        return str(self._http.base_url)

    def pause(self, seconds: float) -> None:
        """Hold every call to this host for ``seconds``; for throttling a caller learns of itself."""
        self._guard.gate.pause(seconds)

    def close(self) -> None:
        self._http.close()

    def send(
        self,
        method: str,
        url: str,
        *,
        idempotent: bool | None = None,
        headers: Mapping[str, str] | None = None,
        content: bytes | None = None,
        params: Mapping[str, str] | None = None,
        auth: Callable[[], Mapping[str, str]] | None = None,
        observe: Callable[[httpx.Response], None] | None = None,
    ) -> httpx.Response:
        """Send the request, retrying as the policy and the error table allow.

        ``idempotent`` defaults to the method's own semantics; pass True for a
        POST or PATCH that is safe to repeat (an upsert by key), False for a PUT
        or DELETE that is not. ``observe`` sees every attempt's response, the
        ones retried here included (a caller adapting its pace to throttling).
        """
        method = method.upper()
        target = self._http.build_request(method, url).url
        about = {names.SYSTEM: target.host, names.HTTP_METHOD: method, names.URL_PATH: target.path}
        with span(names.SPAN_HTTP_CALL, about, SpanKind.CLIENT) as call:
            response = self._send(method, url, idempotent, headers, content, params, auth, observe)
            call.set_attribute(names.HTTP_STATUS, response.status_code)
            return response

    def _send(
        self,
        method: str,
        url: str,
        idempotent: bool | None,
        headers: Mapping[str, str] | None,
        content: bytes | None,
        params: Mapping[str, str] | None,
        auth: Callable[[], Mapping[str, str]] | None,
        observe: Callable[[httpx.Response], None] | None,
    ) -> httpx.Response:
        repeatable = method in _IDEMPOTENT_METHODS if idempotent is None else idempotent
        started = self._timing.clock()
        where = self._describe(method, url)
        attempts = trace.get_current_span()

        def attempt() -> httpx.Response:
            self._wait_at_gate(started, where)
            timeout = self._timeout_within_deadline(where)
            extra = dict(auth()) if auth is not None else {}
            self._guard.breaker.before_call()
            request = self._http.build_request(
                method,
                url,
                headers={**(headers or {}), **extra},
                content=content,
                params=params,
                timeout=timeout,
            )
            try:
                response = self._http.send(request)
            except Exception:
                self._guard.breaker.record_failure()
                raise
            if response.status_code >= 400 and classify_status(response.status_code) is ErrorClass.TRANSIENT:
                self._guard.breaker.record_failure()
            else:
                self._guard.breaker.record_success()
            hint = self._retry_after(response)
            if response.status_code == 429 or (hint is not None and response.status_code == 503):
                meters.record(names.THROTTLED_REQUESTS, 1, {names.SYSTEM: self._http.base_url.host})
                attempts.add_event("throttled", {names.HTTP_STATUS: response.status_code})
            if hint is not None and response.status_code in (429, 503):
                self._guard.gate.pause(hint)
            if observe is not None:
                observe(response)
            return response

        retrying = tenacity.Retrying(
            retry=lambda state: self._should_retry(state, repeatable),
            wait=self._wait,
            stop=lambda state: self._should_stop(state, started),
            sleep=self._timing.sleep,
            before_sleep=lambda state: self._before_retry(state, where),
            retry_error_callback=_outcome_of,
        )
        try:
            response: httpx.Response = retrying(attempt)
        except HubError:
            raise
        except Exception as error:
            raise HubError(
                f"{where} failed: {type(error).__name__}: {error}",
                error_class=classify_exception(error),
                context={"system": self._http.base_url.host, "operation": where},
            ) from error
        if response.status_code >= 400:
            error_class = classify_status(response.status_code)
            if error_class in _RETRYABLE_CLASSES:
                raise self._gave_up(where, response, error_class, started)
        return response

    def _describe(self, method: str, url: str) -> str:
        """Method, host and path, never the query: it can carry record values or signatures."""
        target = self._http.build_request(method, url).url
        return f"{method} {target.host}{target.path}"

    def _wait_at_gate(self, started: float, where: str) -> None:
        remaining = self._guard.gate.remaining()
        if remaining <= 0:
            return
        spent = self._timing.clock() - started
        left = deadline.remaining()
        if spent + remaining > self._policy.budget_seconds:
            beyond = f"beyond this call's {self._policy.budget_seconds:g} s budget"
        elif left is not None and remaining >= left:
            beyond = f"past the work's deadline ({max(left, 0.0):.1f} s away)"
        else:
            self._timing.sleep(remaining)
            return
        raise ThrottledError(
            f"{where} is held for {remaining:.1f} s by the host's Retry-After, {beyond}",
            context={"system": self._http.base_url.host, "operation": where},
            retry_after=remaining,
        )

    def _timeout_within_deadline(self, where: str) -> httpx.Timeout:
        """The client's time-outs, each cut to the time left before the deadline; raise if none is left."""
        configured: httpx.Timeout = self._http.timeout
        left = deadline.remaining()
        if left is None:
            return configured
        if left <= 0:
            raise HubError(
                f"{where} was not sent: the work's deadline has passed",
                error_class=ErrorClass.TRANSIENT,
                context={"system": self._http.base_url.host, "operation": where},
            )
        return httpx.Timeout(
            connect=_within(configured.connect, left),
            read=_within(configured.read, left),
            write=_within(configured.write, left),
            pool=_within(configured.pool, left),
        )

    def _retry_after(self, response: httpx.Response) -> float | None:
        return parse_retry_after(response.headers.get("Retry-After"), self._timing.now())

    def _should_retry(self, state: tenacity.RetryCallState, repeatable: bool) -> bool:
        outcome = state.outcome
        if outcome is None:
            return False
        if outcome.failed:
            error = outcome.exception()
            if error is None or isinstance(error, CircuitOpenError | ThrottledError):
                return False
            if classify_exception(error) not in _RETRYABLE_CLASSES:
                return False
            return repeatable or isinstance(error, (*_NEVER_SENT, HubError))
        response: httpx.Response = outcome.result()
        if response.status_code < 400 or classify_status(response.status_code) not in _RETRYABLE_CLASSES:
            return False
        return repeatable or response.status_code in _NOT_ACTED_ON

    def _wait(self, state: tenacity.RetryCallState) -> float:
        outcome = state.outcome
        if outcome is not None and not outcome.failed:
            hint = self._retry_after(outcome.result())
            if hint is not None:
                return hint
        return self._jitter(state)

    def _should_stop(self, state: tenacity.RetryCallState, started: float) -> bool:
        if state.attempt_number >= self._policy.max_attempts:
            return True
        spent = self._timing.clock() - started
        if spent + state.upcoming_sleep > self._policy.budget_seconds:
            return True
        left = deadline.remaining()
        return left is not None and state.upcoming_sleep >= left

    def _before_retry(self, state: tenacity.RetryCallState, where: str) -> None:
        """Say why the call goes again and after how long, in the log and in the retry-wait metric."""
        outcome = state.outcome
        if outcome is None:
            return
        meters.record(names.RETRY_WAIT, state.upcoming_sleep, {names.SYSTEM: self._http.base_url.host})
        error = outcome.exception() if outcome.failed else None
        reason = type(error).__name__ if error is not None else f"HTTP {outcome.result().status_code}"
        log.warning(
            "%s: %s; attempt %d of %d, trying again in %.2f s",
            where,
            reason,
            state.attempt_number,
            self._policy.max_attempts,
            state.upcoming_sleep,
        )

    def _gave_up(
        self, where: str, response: httpx.Response, error_class: ErrorClass, started: float
    ) -> HubError:
        spent = self._timing.clock() - started
        hint = self._retry_after(response)
        message = f"{where} answered HTTP {response.status_code}; gave up after {spent:.1f} s"
        context = {"system": self._http.base_url.host, "operation": where, "status": response.status_code}
        if error_class is ErrorClass.THROTTLED:
            return ThrottledError(message, context=context, retry_after=hint)
        return HubError(message, error_class=error_class, context=context, retry_after=hint)


def _within(seconds: float | None, left: float) -> float:
    """A time-out no longer than ``left`` (None, no time-out, becomes ``left``)."""
    return left if seconds is None else min(seconds, left)


def _outcome_of(state: tenacity.RetryCallState) -> httpx.Response:
    """When retries stop, hand back the last response, or raise the last error."""
    if state.outcome is None:
        raise RuntimeError("tenacity stopped before any attempt")
    result: httpx.Response = state.outcome.result()
    return result
