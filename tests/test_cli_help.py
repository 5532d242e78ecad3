"""Every command line under ``localdev/`` answers ``--help`` with its help, exit 0, and writes nothing.

The commands are found, not listed: every module with a ``__main__`` block
(or a package's ``__main__.py``), and each sub-command of ``python -m
localdev``. Each runs in an empty folder, which must stay empty (``python -m
localdev.connector --help`` once wrote a file named ``--help``), and every
argument its help lists must say what it is for.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from localdev import services

LOCALDEV = services.REPO / "localdev"
_MAIN_BLOCK = 'if __name__ == "__main__":'
_SECTIONS = ("positional arguments:", "options:")


def command_modules() -> list[str]:
    found = []
    for path in sorted(LOCALDEV.rglob("*.py")):
        if _MAIN_BLOCK not in path.read_text(encoding="utf-8") and path.name != "__main__.py":
            continue
        parts = path.relative_to(services.REPO).with_suffix("").parts
        found.append(".".join(parts[:-1] if parts[-1] == "__main__" else parts))
    return sorted(set(found))


def _help(arguments: list[str], folder: Path) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "PYTHONPATH": str(services.REPO)}
    return subprocess.run(
        [sys.executable, "-m", *arguments, "--help"],
        cwd=folder,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def arguments_without_help(help_text: str) -> list[str]:
    """The entries of the help's argument sections that have no text after them."""
    missing, section, lines = [], False, help_text.splitlines()
    for index, line in enumerate(lines):
        if not line.startswith(" "):
            section = line in _SECTIONS
            continue
        entry = line.strip()
        if not section or not re.match(r"^ {2,4}\S", line) or entry.startswith("{"):
            continue
        following = lines[index + 1] if index + 1 < len(lines) else ""
        continued = re.match(r"^ {6,}\S", following) is not None
        if len(re.split(r"\s{2,}", entry)) < 2 and not continued:
            missing.append(entry)
    return missing


def sub_commands() -> list[str]:
    with_help = subprocess.run(
        [sys.executable, "-m", "localdev", "--help"],
        cwd=services.REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    choices = re.search(r"\{([a-z,-]+)\}", with_help.stdout)
    assert choices is not None, with_help.stdout
    return choices.group(1).split(",")


def test_the_command_lines_are_found() -> None:
    modules = command_modules()
    assert {"localdev", "localdev.connector", "localdev.run", "localdev.fuzz", "localdev.bench"} <= set(
        modules
    )
    assert {"localdev.functions_host", "localdev.sandbox_gp", "localdev.bench.extract"} <= set(modules)


@pytest.mark.parametrize("module", command_modules())
def test_help_prints_help_exits_0_and_writes_nothing(module: str, tmp_path: Path) -> None:
    answered = _help([module], tmp_path)
    assert answered.returncode == 0, answered.stderr
    assert answered.stdout.startswith("usage: "), answered.stdout
    assert list(tmp_path.iterdir()) == []
    assert arguments_without_help(answered.stdout) == []


@pytest.mark.parametrize("command", sub_commands())
def test_each_sub_command_of_localdev_prints_its_help(command: str, tmp_path: Path) -> None:
    answered = _help(["localdev", command], tmp_path)
    assert answered.returncode == 0, answered.stderr
    assert answered.stdout.startswith(f"usage: python -m localdev {command}"), answered.stdout
    assert list(tmp_path.iterdir()) == []
    assert arguments_without_help(answered.stdout) == []


def test_an_argument_without_help_is_noticed() -> None:
    listing = "usage: x\n\noptions:\n  -h, --help     show this help message and exit\n  --rows ROWS\n"
    listing += "  --a-long-option-name LONG_OPTION_NAME\n                        what it is for\n"
    assert arguments_without_help(listing) == ["--rows ROWS"]
