"""One invocation of an app function, as the Python worker runs it: arguments, context, timing and logs.

Plain functions run on a thread pool (the worker's ``PYTHON_THREADPOOL_THREAD_COUNT``
pool), ``async def`` functions on the host's event loop. Each invocation gets
an id that the app sees as ``context.invocation_id`` and that the log lines
``Executing``/``Executed`` carry, so a developer can follow one run.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import inspect
import logging
import secrets
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import azure.functions as func
from azure.functions import _abc as functions_abc
from opentelemetry import trace

from localdev.functions_host.catalog import AppFunction
from localdev.functions_host.telemetry import attached, current_trace_parent
from shared.telemetry import names

# Frames from these folders are the host's plumbing, left out of the stack a developer reads.
_HOST_SOURCES = (str(Path(__file__).parent), str(Path(concurrent.futures.__file__).parent))

# The worker keeps the current invocation id here, so threads the app starts can log against it.
_invocation_thread = threading.local()


class _TraceContext(functions_abc.TraceContext):
    """The W3C trace parent of the host's span for the invocation; a fresh one when telemetry is off."""

    def __init__(self, trace_parent: str | None) -> None:
        self._parent = trace_parent or f"00-{secrets.token_hex(16)}-{secrets.token_hex(8)}-01"

    @property
    def trace_state(self) -> str:
        return ""

    @property
    def trace_parent(self) -> str:
        return self._parent

    @property
    def attributes(self) -> dict[str, str]:
        return {}


class _NoFailure(functions_abc.RpcException):
    @property
    def source(self) -> str:
        return ""

    @property
    def stack_trace(self) -> str:
        return ""

    @property
    def message(self) -> str:
        return ""


class _FirstAttempt(functions_abc.RetryContext):
    """The host runs no function-level retry policy: every invocation is attempt zero of zero."""

    @property
    def retry_count(self) -> int:
        return 0

    @property
    def max_retry_count(self) -> int:
        return 0

    @property
    def exception(self) -> functions_abc.RpcException:
        return _NoFailure()


class InvocationContext(func.Context):
    """The ``context`` argument a function receives when it declares one."""

    def __init__(
        self, invocation_id: str, function_name: str, function_directory: str, trace_parent: str | None = None
    ) -> None:
        self._invocation_id = invocation_id
        self._function_name = function_name
        self._function_directory = function_directory
        self._trace_context = _TraceContext(trace_parent)

    @property
    def invocation_id(self) -> str:
        return self._invocation_id

    @property
    def thread_local_storage(self) -> type[threading.local]:
        # The worker's API is typed as the class but hands out the thread-local instance.
        return _invocation_thread  # type: ignore[return-value]

    @property
    def function_name(self) -> str:
        return self._function_name

    @property
    def function_directory(self) -> str:
        return self._function_directory

    @property
    def trace_context(self) -> functions_abc.TraceContext:
        return self._trace_context

    @property
    def retry_context(self) -> functions_abc.RetryContext:
        return _FirstAttempt()


@dataclass(frozen=True)
class Outcome:
    """How an invocation ended: the function's return value, or the exception it raised."""

    invocation_id: str
    value: Any = None
    error: Exception | None = None

    @property
    def succeeded(self) -> bool:
        return self.error is None


def _call_on_worker_thread(
    user_function: Callable[..., Any], arguments: dict[str, Any], invocation_id: str, trace_parent: str | None
) -> Any:
    _invocation_thread.invocation_id = invocation_id
    try:
        with attached(trace_parent):
            return user_function(**arguments)
    finally:
        _invocation_thread.invocation_id = None


class Invoker:
    """Runs app functions and writes Core Tools' per-invocation log lines."""

    def __init__(
        self, executor: ThreadPoolExecutor, app_dir: Path, log: logging.Logger, continues_traces: bool = False
    ) -> None:
        """``continues_traces``: the worker's ``PYTHON_ENABLE_OPENTELEMETRY``, making the host's span current."""
        self._executor = executor
        self._app_dir = str(app_dir)
        self._log = log
        self._continues_traces = continues_traces

    async def invoke(
        self, function: AppFunction, trigger_value: Any, reason: str, details: str | None = None
    ) -> Outcome:
        """Call ``function`` with its trigger value (and context); never raises what the function raised."""
        invocation_id = str(uuid.uuid4())
        trace.get_current_span().set_attribute(names.INVOCATION_ID, invocation_id)
        trace_parent = current_trace_parent()
        self._log.info("Executing 'Functions.%s' (Reason='%s', Id=%s)", function.name, reason, invocation_id)
        if details:
            self._log.info(details)
        arguments: dict[str, Any] = {function.argument: trigger_value}
        if function.wants_context:
            arguments["context"] = InvocationContext(
                invocation_id, function.name, self._app_dir, trace_parent
            )
        started = time.monotonic()
        try:
            value = await self._call(
                function.user_function,
                arguments,
                invocation_id,
                trace_parent if self._continues_traces else None,
            )
        except Exception as error:  # noqa: BLE001 - any failure of the app's code is reported, as the worker does
            self._log.info(
                "Executed 'Functions.%s' (Failed, Id=%s, Duration=%dms)",
                function.name,
                invocation_id,
                _milliseconds_since(started),
            )
            self._log.error(
                "Exception while executing function: Functions.%s. Result: Failure\n"
                "Exception: %s: %s\nStack: %s",
                function.name,
                type(error).__name__,
                error,
                _app_stack(error),
            )
            return Outcome(invocation_id, error=error)
        self._log.info(
            "Executed 'Functions.%s' (Succeeded, Id=%s, Duration=%dms)",
            function.name,
            invocation_id,
            _milliseconds_since(started),
        )
        return Outcome(invocation_id, value=value)

    async def _call(
        self,
        user_function: Callable[..., Any],
        arguments: dict[str, Any],
        invocation_id: str,
        trace_parent: str | None,
    ) -> Any:
        if inspect.iscoroutinefunction(user_function):
            _invocation_thread.invocation_id = invocation_id
            with attached(trace_parent):
                return await user_function(**arguments)
        loop = asyncio.get_running_loop()
        call = functools.partial(
            _call_on_worker_thread, user_function, arguments, invocation_id, trace_parent
        )
        return await loop.run_in_executor(self._executor, call)


def _app_stack(error: Exception) -> str:
    frames = traceback.extract_tb(error.__traceback__)
    return "".join(traceback.format_list([f for f in frames if not f.filename.startswith(_HOST_SOURCES)]))


def _milliseconds_since(started: float) -> int:
    return round((time.monotonic() - started) * 1000)
