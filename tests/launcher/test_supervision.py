"""``make run``'s supervision with real children: a death is reported, Ctrl-C drains the host once.

The launcher (``tests/launcher/launcher.py``, ``Supervisor.run`` as ``make
run`` calls it) runs in its own process group, as a shell runs a foreground
job, so ``os.killpg(launcher, SIGINT)`` is what Ctrl-C in its terminal does:
before the children had sessions of their own, the host got that SIGINT and
then the launcher's SIGTERM, and exited at once on the second signal.
"""

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

import pytest
from azure.servicebus import ServiceBusClient, ServiceBusMessage

from localdev import services
from tests.fixtures.servicebus_emulator import ServiceBusEmulator
from tests.functions_host.conftest import SAMPLE_APP
from tests.functions_host.test_servicebus_triggers import SAMPLE_APP_ENTITIES
from tests.launcher.launcher import write_specs

pytestmark = pytest.mark.timeout(120)
RUNNING = "The hub is running."
DRAIN_SECONDS = 20.0
HALF_SETTLED = "messages were locked when the emulator stopped"


@dataclass
class Launcher:
    process: subprocess.Popen[str]
    output: Path

    def text(self) -> str:
        return self.output.read_text(encoding="utf-8", errors="replace")

    def wait_for(self, text: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.text():
            assert self.process.poll() is None or text in self.text(), self.text()
            assert time.monotonic() < deadline, f"never printed {text!r}:\n{self.text()}"
            time.sleep(0.05)

    def children(self) -> dict[str, int]:
        """The launcher's child processes by the module or program they run."""
        pid = self.process.pid
        found = {}
        for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
            command = Path(f"/proc/{child}/cmdline").read_bytes().split(b"\0")
            name = command[3].decode() if command[1:3] == [b"-u", b"-m"] else command[0].decode()
            found[name] = int(child)
        return found

    def ctrl_c(self) -> None:
        """What the terminal does on Ctrl-C: SIGINT to every process of the foreground group."""
        os.killpg(self.process.pid, signal.SIGINT)


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split()[2]
    except FileNotFoundError:
        return False
    return state != "Z"


Launch = Callable[[list[services.ServiceSpec]], Launcher]


@pytest.fixture
def launch(tmp_path: Path) -> Iterator[Launch]:
    started: list[Launcher] = []

    def start(specs: list[services.ServiceSpec]) -> Launcher:
        output = tmp_path / f"launcher-{len(started)}.log"
        command = [sys.executable, "-u", "-m", "tests.launcher.launcher"]
        command.append(str(write_specs(tmp_path / f"specs-{len(started)}.json", specs)))
        with output.open("w") as sink:
            process = subprocess.Popen(
                command,
                stdout=sink,
                stderr=subprocess.STDOUT,
                cwd=services.REPO,
                text=True,
                process_group=0,
            )
        launcher = Launcher(process, output)
        started.append(launcher)
        launcher.wait_for(RUNNING)
        return launcher

    try:
        yield start
    finally:
        for launcher in started:
            if launcher.process.poll() is None:
                launcher.process.send_signal(signal.SIGTERM)
                launcher.process.wait(60)


def _emulator(tmp_path: Path) -> ServiceBusEmulator:
    config = tmp_path / "config.json"
    config.write_text(json.dumps(SAMPLE_APP_ENTITIES), encoding="utf-8")
    data = tmp_path / "servicebus"
    data.mkdir()
    return ServiceBusEmulator(services.free_port(), data, config)


def _emulator_spec(emulator: ServiceBusEmulator) -> services.ServiceSpec:
    return services.python_module(
        "servicebus-emulator",
        "localdev.servicebus_emulator",
        emulator.port,
        ["--config", str(emulator.config), "--port", str(emulator.port), "--data", str(emulator.data_dir)],
        emulator.data_dir / "emulator.log",
    )


def _host_spec(tmp_path: Path, emulator: ServiceBusEmulator) -> services.ServiceSpec:
    output = tmp_path / "records"
    output.mkdir()
    port = services.free_port()
    spec = services.python_module(
        "functions-host",
        "localdev.functions_host",
        port,
        ["--app-dir", str(SAMPLE_APP), "--port", str(port), "--drain-seconds", str(DRAIN_SECONDS)],
        tmp_path / "host.log",
    )
    environment = {
        "SampleServiceBus": emulator.connection_string,
        "SAMPLE_OUTPUT_DIR": str(output),
        "TICK_SCHEDULE": "0 0 0 1 1 *",  # no timer runs during the test
    }
    return replace(spec, env=environment, start_seconds=30, stop_seconds=DRAIN_SECONDS + 10)


def _send_slow_order(emulator: ServiceBusEmulator, seconds: float) -> None:
    with (
        ServiceBusClient.from_connection_string(emulator.connection_string) as client,
        client.get_queue_sender("slow-orders") as sender,
    ):
        message = ServiceBusMessage("slow", message_id="slow-1", application_properties={"seconds": seconds})
        sender.send_messages(message)


def _wait_for_log(path: Path, text: str, timeout: float = 30) -> str:
    deadline = time.monotonic() + timeout
    while text not in (log := path.read_text(encoding="utf-8", errors="replace")):
        assert time.monotonic() < deadline, f"{path.name} never logged {text!r}:\n{log}"
        time.sleep(0.05)
    return log


def _records(tmp_path: Path) -> list[dict[str, float]]:
    path = tmp_path / "records" / "price_order_slowly.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


@pytest.mark.slow(8)
def test_a_child_that_dies_is_reported_and_the_launcher_stops_the_rest_and_exits_non_zero(
    tmp_path: Path, launch: Launch
) -> None:
    emulator = _emulator(tmp_path)
    gp_port = services.free_port()
    gp = services.python_module(
        "sandbox-gp",
        "localdev.sandbox_gp",
        gp_port,
        ["--port", str(gp_port), "--data", str(tmp_path / "gp")],
        tmp_path / "gp.log",
    )
    launcher = launch([_emulator_spec(emulator), gp])
    children = launcher.children()
    assert set(children) == {"localdev.servicebus_emulator", "localdev.sandbox_gp"}

    os.kill(children["localdev.sandbox_gp"], signal.SIGKILL)

    assert launcher.process.wait(30) == 1
    assert "sandbox-gp exited with code -9 (SIGKILL); stopping everything" in launcher.text()
    assert "Stopped." in launcher.text()
    assert not _alive(children["localdev.servicebus_emulator"])
    assert not services.accepts_connections(emulator.port)


@pytest.mark.slow(15)
def test_ctrl_c_lets_the_running_invocation_finish_and_leaves_no_half_settled_message(
    tmp_path: Path, launch: Launch
) -> None:
    emulator = _emulator(tmp_path)
    host = _host_spec(tmp_path, emulator)
    launcher = launch([_emulator_spec(emulator), host])
    assert host.log_file is not None
    _wait_for_log(host.log_file, "Host started")
    _send_slow_order(emulator, seconds=4)
    _wait_for_log(host.log_file, "Executing 'Functions.price_order_slowly'")
    interrupted = time.monotonic()

    launcher.ctrl_c()

    assert launcher.process.wait(DRAIN_SECONDS + 20) == 0, launcher.text()
    assert time.monotonic() - interrupted < DRAIN_SECONDS
    [record] = _records(tmp_path)
    assert record["ended"] - record["started"] >= 4
    log = host.log_file.read_text()
    assert log.count("Stopping host...") == 1 and "Second stop signal" not in log
    assert log.index("Stopping host...") < log.index("Executed 'Functions.price_order_slowly'")
    assert "Host shut down." in log

    emulator.start()  # the next start of the world
    try:
        assert HALF_SETTLED not in (emulator.data_dir / "emulator.log").read_text()
        with (
            ServiceBusClient.from_connection_string(emulator.connection_string) as client,
            client.get_queue_receiver("slow-orders") as receiver,
        ):
            assert receiver.peek_messages(max_message_count=10) == []
    finally:
        emulator.stop()


@pytest.mark.slow(12)
def test_an_invocation_longer_than_the_drain_limit_is_cut_off_and_its_message_comes_back(
    tmp_path: Path, launch: Launch
) -> None:
    emulator = _emulator(tmp_path)
    host = replace(_host_spec(tmp_path, emulator), stop_seconds=12)
    host = replace(host, command=[*host.command[:-1], "2"])  # --drain-seconds 2
    launcher = launch([_emulator_spec(emulator), host])
    assert host.log_file is not None
    _wait_for_log(host.log_file, "Host started")
    _send_slow_order(emulator, seconds=60)
    _wait_for_log(host.log_file, "Executing 'Functions.price_order_slowly'")
    interrupted = time.monotonic()

    launcher.ctrl_c()

    assert launcher.process.wait(30) == 1  # the host could not stop cleanly: the launcher says so
    assert time.monotonic() - interrupted < 12
    assert "functions-host exited with code 130" in launcher.text()
    assert "Invocations still running after 2 s" in host.log_file.read_text()
    assert _records(tmp_path) == []

    emulator.start()
    try:
        assert f"1 {HALF_SETTLED}" in (emulator.data_dir / "emulator.log").read_text()
        with (
            ServiceBusClient.from_connection_string(emulator.connection_string) as client,
            client.get_queue_receiver("slow-orders", max_wait_time=5) as receiver,
        ):
            [again] = receiver.receive_messages(max_message_count=1, max_wait_time=5)
            assert str(again.message_id) == "slow-1" and again.delivery_count == 1
            receiver.complete_message(again)
    finally:
        emulator.stop()
