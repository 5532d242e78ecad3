"""``make run``'s watch over what it starts: a child that dies stops the world, Ctrl-C stops it once.

The launcher starts every service through ``Supervisor.start`` and then
watches: when a child exits on its own (a crash, a port taken after start, a
corrupt data folder) the launcher says which one and with what exit code,
stops the others and exits 1. It does not restart the child: what killed it
would most likely kill it again, and a world with a silently restarted
dependency hides the failure the developer needs to see (the Service Bus
emulator, for one, would come back with every lock it held released).

A stop (Ctrl-C, or SIGTERM from a tool) stops the children in reverse start
order, the Functions host first, each with ONE SIGTERM and its spec's
``stop_seconds`` to exit before SIGKILL: the host uses it to let running
invocations finish (``--drain-seconds``). A second Ctrl-C while stopping
kills every child still running at once.
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Callable
from types import FrameType

from localdev import services

WATCH_SECONDS = 0.5  # how soon a dead child is noticed
HURRIED_EXIT_CODE = 130


class Supervisor:
    """The children of one launcher, started in order, watched, and stopped in reverse."""

    def __init__(self) -> None:
        self._children: list[services.RunningService] = []
        self._stopping = threading.Event()

    def start(self, spec: services.ServiceSpec) -> services.RunningService:
        child = services.start(spec)
        self._children.append(child)
        return child

    def run(self, start_world: Callable[[], None], announce: str) -> int:
        """Start the world, print ``announce``, watch until a stop or a death; the launcher's exit code."""
        # While starting, a stop signal abandons the start (KeyboardInterrupt), then stops what started.
        signal.signal(signal.SIGTERM, signal.default_int_handler)
        try:
            start_world()
        except KeyboardInterrupt:
            self._listen_for_stop(stopping=True)
            self._stop_all()
            return HURRIED_EXIT_CODE
        except services.ServiceFailedError as error:
            print(f"Could not start the local world: {error}", file=sys.stderr)
            self._listen_for_stop(stopping=True)
            self._stop_all()
            return 1
        self._listen_for_stop(stopping=False)
        print(announce, flush=True)
        dead = self._watch()
        if dead is not None:
            print(
                f"{dead.spec.name} exited with {_exit_status(dead.process.returncode)}; stopping everything. "
                f"The end of its log:\n{services.log_tail(dead.spec.log_file)}",
                file=sys.stderr,
                flush=True,
            )
        self._stopping.set()
        print("Stopping...", flush=True)
        failed = self._stop_all(already_reported=dead)
        return 1 if dead is not None or failed else 0

    def _listen_for_stop(self, stopping: bool) -> None:
        if stopping:
            self._stopping.set()
        for signal_number in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signal_number, self._on_stop_signal)

    def _watch(self) -> services.RunningService | None:
        while not self._stopping.wait(WATCH_SECONDS):
            for child in self._children:
                if child.process.poll() is not None:
                    return child
        return None

    def _on_stop_signal(self, signal_number: int, frame: FrameType | None) -> None:
        if not self._stopping.is_set():
            self._stopping.set()
            return
        print("Second stop signal: killing every child still running", file=sys.stderr, flush=True)
        for child in self._children:
            if child.process.poll() is None:
                child.process.kill()

    def _stop_all(
        self, already_reported: services.RunningService | None = None
    ) -> list[services.RunningService]:
        """Stop each child once, newest first; the ones that did not exit cleanly (SIGTERM'd is clean)."""
        failed = []
        for child in reversed(self._children):
            child.stop()
            code = child.process.returncode
            if code not in (0, -signal.SIGTERM) and child is not already_reported:
                print(f"  {child.spec.name} exited with {_exit_status(code)}", file=sys.stderr)
                failed.append(child)
        print("Stopped.", flush=True)
        return failed


def _exit_status(code: int | None) -> str:
    """``code 1``, or ``code -9 (SIGKILL)`` for a child a signal ended."""
    if code is not None and code < 0:
        return f"code {code} ({signal.Signals(-code).name})"
    return f"code {code}"
