"""Starting and stopping the local world's processes: one way, shared by ``make run`` and the tests.

Each service is a child process on a loopback port. ``start`` returns once the
port accepts connections (or raises with the end of the service's log when it
exits or stays silent), so callers never race a service that is still booting.
Each child runs in its own session: Ctrl-C in a terminal signals the whole
foreground process group, and a child that got it too would then get its
launcher's stop signal as a second one (the Functions host exits at once on a
second signal). Only the launcher hears the terminal; children hear the
launcher, once.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
AZURITE_BLOB = REPO / "node_modules" / ".bin" / "azurite-blob"
AZURITE_TABLE = REPO / "node_modules" / ".bin" / "azurite-table"


class ServiceFailedError(RuntimeError):
    """A local service did not come up; the message carries the end of its log."""


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    command: Sequence[str]
    port: int
    log_file: Path | None  # None: the service writes to this terminal, as the Functions host should
    env: Mapping[str, str] = field(default_factory=dict)
    start_seconds: float = 60.0
    stop_seconds: float = (
        10.0  # from the stop signal to SIGKILL: how long the service may take to flush and exit
    )
    stop_signal: signal.Signals = signal.SIGTERM  # the signal the service saves its state on


@dataclass
class RunningService:
    spec: ServiceSpec
    process: subprocess.Popen[bytes]

    def stop(self) -> None:
        """The spec's stop signal, then SIGKILL after its ``stop_seconds``: services get to flush their state first."""
        if self.process.poll() is not None:
            return
        self.process.send_signal(self.spec.stop_signal)
        try:
            self.process.wait(self.spec.stop_seconds)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def accepts_connections(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def start(spec: ServiceSpec) -> RunningService:
    log = None
    if spec.log_file is not None:
        spec.log_file.parent.mkdir(parents=True, exist_ok=True)
        log = spec.log_file.open("ab")
    process = subprocess.Popen(  # noqa: S603 - our own commands, no shell
        list(spec.command),
        stdout=log,
        stderr=subprocess.STDOUT if log else None,
        stdin=subprocess.DEVNULL,
        cwd=REPO,
        env={**os.environ, **spec.env},
        start_new_session=True,
    )
    if log is not None:
        log.close()
    deadline = time.monotonic() + spec.start_seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ServiceFailedError(
                f"{spec.name} exited with {process.returncode}:\n{log_tail(spec.log_file)}"
            )
        if accepts_connections(spec.port):
            return RunningService(spec, process)
        time.sleep(0.1)
    RunningService(spec, process).stop()
    raise ServiceFailedError(f"{spec.name} did not listen on {spec.port} in time:\n{log_tail(spec.log_file)}")


def log_tail(path: Path | None, lines: int = 30) -> str:
    if path is None:
        return "(see its output above)"
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


# Azurite closes its servers and saves its databases on SIGINT only; on SIGTERM it exits at once, and its
# Table service (LokiJS, saved every 5 s) loses the writes of its last seconds that it had acknowledged.
AZURITE_STOP = signal.SIGINT


def azurite(port: int, data_dir: Path) -> ServiceSpec:
    """Azurite's Blob service only; telemetry off (it reports usage remotely otherwise)."""
    if not AZURITE_BLOB.exists():
        raise ServiceFailedError("Azurite is not installed: run `npm ci` (make does) in the repo")
    return ServiceSpec(
        name="azurite",
        command=[
            str(AZURITE_BLOB),
            "--blobHost", "127.0.0.1",
            "--blobPort", str(port),
            "--location", str(data_dir),
            "--disableTelemetry",
            "--skipApiVersionCheck",
            "--silent",
        ],
        port=port,
        log_file=data_dir / "azurite.log",
        stop_signal=AZURITE_STOP,
    )  # fmt: skip


def azurite_table(port: int, data_dir: Path, *, in_memory: bool = False) -> ServiceSpec:
    """Azurite's Table service, the run records' and postings' store; ``in_memory`` for throw-away tests."""
    if not AZURITE_TABLE.exists():
        raise ServiceFailedError("Azurite is not installed: run `npm ci` (make does) in the repo")
    persistence = ["--inMemoryPersistence"] if in_memory else ["--location", str(data_dir)]
    data_dir.mkdir(parents=True, exist_ok=True)
    return ServiceSpec(
        name="azurite-table",
        command=[
            str(AZURITE_TABLE),
            "--tableHost", "127.0.0.1",
            "--tablePort", str(port),
            *persistence,
            "--disableTelemetry",
            "--skipApiVersionCheck",
            "--silent",
        ],
        port=port,
        log_file=data_dir / "azurite-table.log",
        stop_signal=AZURITE_STOP,
    )  # fmt: skip


AZURITE_ACCOUNT = "devstoreaccount1"
# Azurite's published development key: the same in every Azurite, not a secret.
AZURITE_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


def azurite_connection_string(port: int, table_port: int | None = None) -> str:
    """One connection string for both of Azurite's services, as an Azure account's would be."""
    table = f"TableEndpoint=http://127.0.0.1:{table_port}/{AZURITE_ACCOUNT};" if table_port else ""
    return (
        f"DefaultEndpointsProtocol=http;AccountName={AZURITE_ACCOUNT};AccountKey={AZURITE_KEY};"
        f"BlobEndpoint=http://127.0.0.1:{port}/{AZURITE_ACCOUNT};{table}"
    )


def servicebus_connection_string(port: int) -> str:
    """The local emulator's connection string; it never checks the key (the SDK signs in anonymously)."""
    return (
        f"Endpoint=sb://127.0.0.1:{port};SharedAccessKeyName=RootManageSharedAccessKey;"
        "SharedAccessKey=local-emulator;UseDevelopmentEmulator=true;"
    )


def python_module(
    name: str, module: str, port: int, args: Sequence[str], log_file: Path | None
) -> ServiceSpec:
    """A service written in Python in this repo, run with the same interpreter as the caller."""
    return ServiceSpec(
        name=name,
        command=[sys.executable, "-u", "-m", module, *args],
        port=port,
        log_file=log_file,
    )
