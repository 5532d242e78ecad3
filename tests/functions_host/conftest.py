"""The local Functions host as a real subprocess serving the sample app, and ways to read what it did."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest

from localdev import services

SAMPLE_APP = Path(__file__).parent / "sample_app"
FUNCTION_KEY = "sample-function-key"
MASTER_KEY = "sample-master-key"


@dataclass
class FunctionsHost:
    """A running host: its URL, its log, and the records the sample app's functions wrote."""

    port: int
    output: Path
    log_file: Path
    running: services.RunningService

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log(self) -> str:
        return self.log_file.read_text(encoding="utf-8", errors="replace")

    def records(self, function: str) -> list[dict[str, Any]]:
        path = self.output / f"{function}.jsonl"
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]

    def wait_for_records(self, function: str, count: int, timeout: float = 15) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while len(records := self.records(function)) < count:
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"{function} wrote {len(records)} records, expected {count}:\n{self.log()}"
                )
            time.sleep(0.05)
        return records

    def wait_for_log(self, text: str, timeout: float = 15) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in (log := self.log()):
                return log
            time.sleep(0.05)
        raise AssertionError(f"the host never logged {text!r}:\n{self.log()}")

    def terminate(self, timeout: float = 20) -> int:
        """SIGTERM, as an operator or ``make run`` stops it; the exit code once it has stopped."""
        process = self.running.process
        process.send_signal(signal.SIGTERM)
        return process.wait(timeout)


def start_host(folder: Path, environment: dict[str, str] | None = None) -> FunctionsHost:
    output = folder / "records"
    output.mkdir(parents=True, exist_ok=True)
    port = services.free_port()
    log_file = folder / "host.log"
    spec = services.python_module(
        "functions-host",
        "localdev.functions_host",
        port,
        ["--app-dir", str(SAMPLE_APP), "--port", str(port)],
        log_file,
    )
    spec = replace(spec, env={"SAMPLE_OUTPUT_DIR": str(output), **(environment or {})}, start_seconds=30)
    host = FunctionsHost(port, output, log_file, services.start(spec))
    host.wait_for_log("Host started")
    return host


@pytest.fixture
def functions_host_factory(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Callable[..., FunctionsHost]]:
    """Start hosts on free ports with extra environment; every one is stopped afterwards."""
    started: list[FunctionsHost] = []

    def start(environment: dict[str, str] | None = None) -> FunctionsHost:
        host = start_host(tmp_path_factory.mktemp("functions-host"), environment)
        started.append(host)
        return host

    try:
        yield start
    finally:
        for host in started:
            host.running.stop()


def run_host_briefly(
    settings: Path, stop_after_start: bool = False, port: int | None = None
) -> subprocess.CompletedProcess[str]:
    """Run a host with only ``settings`` (none from this environment); SIGTERM it once started if asked."""
    environment = {name: value for name, value in os.environ.items() if not name.startswith("LOCAL_")}
    command = [sys.executable, "-u", "-m", "localdev.functions_host", "--app-dir", str(SAMPLE_APP)]
    command += ["--settings", str(settings), "--port", str(port or services.free_port())]
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**environment, "SAMPLE_OUTPUT_DIR": str(settings.parent)},
    )
    lines = []
    try:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line)
            if stop_after_start and "Host started" in line:
                process.send_signal(signal.SIGTERM)
        process.wait(20)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    return subprocess.CompletedProcess(command, process.returncode, "".join(lines))
