"""The local Functions host: load settings and the app, serve its triggers, stop gracefully on SIGINT/SIGTERM.

Start-up follows Core Tools: local settings into the environment, the app
folder as working directory and first on ``sys.path``, then index
``function_app.py`` and list each function with its URL, schedule or queue.
On a stop signal the host takes no new work, lets running invocations finish
for up to ``drain_seconds``, and exits; a second signal, or invocations still
running at the limit, exit at once (their Service Bus messages stay locked
until the lock lapses, then are delivered again).
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
from collections.abc import Generator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import uvicorn

from localdev.functions_host import console
from localdev.functions_host.catalog import (
    HTTP_TRIGGER,
    SERVICE_BUS_TRIGGER,
    TIMER_TRIGGER,
    AppLoadError,
    FunctionInError,
    import_app,
    read_catalog,
)
from localdev.functions_host.http_trigger import (
    FunctionKeys,
    HttpEndpoint,
    HttpTriggers,
    MissingKeyError,
    http_endpoint,
    request_body_limit,
)
from localdev.functions_host.invocation import Invoker
from localdev.functions_host.local_settings import (
    SettingsError,
    extension_settings,
    load_host_json,
    load_local_settings,
)
from localdev.functions_host.routes import RouteTemplateError
from localdev.functions_host.schedules import ScheduleError
from localdev.functions_host.servicebus_trigger import (
    ServiceBusListener,
    ServiceBusOptions,
    ServiceBusSpec,
    servicebus_spec,
)
from localdev.functions_host.timer_trigger import Timer, TimerSpec, timer_spec
from shared.settings import SettingsError as HubSettingsError
from shared.settings import hub_settings
from shared.telemetry.startup import start_telemetry

DEFAULT_ROUTE_PREFIX = "api"
_FORCED_EXIT_CODE = 130
# How long a stop waits for running invocations. A batch load or a GP posting takes seconds, so a
# minute lets them finish and settle their messages, yet Ctrl-C still answers within a minute; the
# rare longer run (a large extraction) is cut off and redelivered, which every hub trigger is safe to.
DRAIN_SECONDS = 60.0


@dataclass(frozen=True)
class HostOptions:
    app_dir: Path
    port: int
    settings_file: Path
    drain_seconds: float = DRAIN_SECONDS


@dataclass
class LoadedApp:
    """Everything the host serves, read from the app before any trigger starts."""

    app_dir: Path
    endpoints: list[HttpEndpoint] = field(default_factory=list)
    timers: list[TimerSpec] = field(default_factory=list)
    queues: list[ServiceBusSpec] = field(default_factory=list)
    in_error: list[FunctionInError] = field(default_factory=list)
    keys: FunctionKeys = field(default_factory=lambda: FunctionKeys(None, None))
    servicebus: ServiceBusOptions = field(default_factory=ServiceBusOptions)


def load_app(options: HostOptions) -> LoadedApp:
    """Read settings, ``host.json`` and the app's functions; raise when the host cannot start at all."""
    load_local_settings(options.settings_file, os.environ)
    os.chdir(options.app_dir)  # the app reads relative paths as it would under func start
    host_json = load_host_json(options.app_dir)
    route_prefix = str(extension_settings(host_json, "http").get("routePrefix", DEFAULT_ROUTE_PREFIX))
    catalog = read_catalog(import_app(options.app_dir))
    _start_telemetry()
    loaded = LoadedApp(
        options.app_dir,
        in_error=list(catalog.in_error),
        keys=FunctionKeys.from_settings(os.environ),
        servicebus=ServiceBusOptions.from_host_json(extension_settings(host_json, "serviceBus")),
    )
    for function in catalog.functions:
        try:
            if function.trigger_type == HTTP_TRIGGER:
                loaded.endpoints.append(http_endpoint(function, route_prefix))
            elif function.trigger_type == TIMER_TRIGGER:
                loaded.timers.append(timer_spec(function))
            elif function.trigger_type == SERVICE_BUS_TRIGGER:
                loaded.queues.append(servicebus_spec(function, os.environ))
        except (RouteTemplateError, ScheduleError, SettingsError, ValueError) as error:
            loaded.in_error.append(FunctionInError(function.name, str(error)))
    loaded.keys.require_for(loaded.endpoints)
    return loaded


def _start_telemetry() -> None:
    """The Functions host's own telemetry exists before any invocation, so its first request is traced
    too; in the app it starts with the hub (``functions/app_hub.py``). An app without the hub's
    settings (the host's own tests serve a sample app) has no telemetry."""
    try:
        settings = hub_settings()
    except HubSettingsError:
        return
    start_telemetry(settings)


def _list_functions(loaded: LoadedApp, port: int, log: logging.Logger) -> None:
    base_url = f"http://127.0.0.1:{port}"
    lines = ["", "Functions:", ""]
    lines += [f"\t{e.function.name}: {e.describe(base_url)}" for e in loaded.endpoints]
    lines += [f"\t{t.function.name}: {t.describe()}" for t in loaded.timers]
    lines += [f"\t{q.function.name}: {q.describe()}" for q in loaded.queues]
    log.info("\n".join(lines) + "\n")
    for function in loaded.in_error:
        log.error("The '%s' function is in error: %s", function.name, function.reason)


class _HttpServer(uvicorn.Server):
    """uvicorn without its own signal handling: the host decides when HTTP stops."""

    @contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


def _listen(port: int) -> socket.socket:
    """Bind the HTTP port before serving, so a busy port is a one-line error rather than a traceback."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # restart at once on the same port
    try:
        listener.bind(("127.0.0.1", port))
    except OSError as error:
        listener.close()
        raise SettingsError(f"port {port} on 127.0.0.1 is not free ({error.strerror})") from error
    listener.listen()
    return listener


async def serve(
    loaded: LoadedApp, listener: socket.socket, log: logging.Logger, drain_seconds: float = DRAIN_SECONDS
) -> int:
    """Run every trigger until a stop signal, then wait for running invocations; the process exit code."""
    loop = asyncio.get_running_loop()
    stopping = asyncio.Event()

    def on_signal() -> None:
        if stopping.is_set():
            log.warning("Second stop signal: exiting without waiting for running invocations")
            os._exit(_FORCED_EXIT_CODE)
        log.info("Stopping host... (running invocations get up to %g s to finish)", drain_seconds)
        stopping.set()

    for signal_number in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signal_number, on_signal)

    thread_count = os.environ.get("PYTHON_THREADPOOL_THREAD_COUNT")
    executor = ThreadPoolExecutor(max_workers=int(thread_count) if thread_count else None)
    continues_traces = os.environ.get("PYTHON_ENABLE_OPENTELEMETRY", "").lower() == "true"
    invoker = Invoker(executor, loaded.app_dir, log, continues_traces)
    server = _HttpServer(
        uvicorn.Config(
            HttpTriggers(loaded.endpoints, loaded.keys, invoker, log, request_body_limit(os.environ)),
            lifespan="off",
            access_log=False,
            log_config=None,
        )
    )
    http_task = asyncio.create_task(server.serve(sockets=[listener]))
    while not server.started:
        if http_task.done():
            log.error("The HTTP listener stopped while starting")
            return 1
        await asyncio.sleep(0.05)
    _list_functions(loaded, listener.getsockname()[1], log)
    triggers = [asyncio.create_task(Timer(spec, invoker, stopping).run()) for spec in loaded.timers]
    triggers += [
        asyncio.create_task(ServiceBusListener(spec, loaded.servicebus, invoker, stopping, log).run())
        for spec in loaded.queues
    ]
    log.info("Host started")
    await stopping.wait()
    server.should_exit = True
    drained = asyncio.gather(http_task, *triggers)
    _, running = await asyncio.wait({drained}, timeout=drain_seconds)
    if running:
        log.warning(
            "Invocations still running after %g s: exiting without them; "
            "their Service Bus messages are delivered again once their locks lapse",
            drain_seconds,
        )
        os._exit(_FORCED_EXIT_CODE)  # a function running on a pool thread cannot be cancelled
    await drained
    executor.shutdown(wait=True)
    log.info("Host shut down.")
    return 0


def run(options: HostOptions) -> int:
    """Start the host in this process and block until it stops."""
    log = console.configure()
    try:
        loaded = load_app(options)
        listener = _listen(options.port)
    except (SettingsError, AppLoadError, MissingKeyError) as error:
        log.error("The local Functions host cannot start: %s", error)
        return 1
    with listener:
        return asyncio.run(serve(loaded, listener, log, options.drain_seconds))
