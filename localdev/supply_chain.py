"""``make lock`` and ``make audit``: the runtime set pinned exactly, and pip-audit over those pins.

``requirements.txt`` says what the hub needs in ranges; ``requirements.lock`` is
what pip's resolver picked for it on Linux and Python 3.11 (what Azure runs), so
the audit checks the versions a deploy installs, not whatever the ranges admit
today. ``make setup`` installs under the lock, so tests run on the same pins.

A vulnerability pip-audit reports fails the audit unless ``pyproject.toml``
lists its id under ``[tool.hub.audit]`` with a reason. A dependency the
vulnerability service could not answer for is not a finding but it is not a
pass either: the audit says how many were not checked, and ``--strict`` (CI
where the service is reachable) fails on them. On this machine PyPI's
per-version JSON, which pip-audit asks, is not served, so every pin is
reported unchecked (README, "Supply chain").
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
REQUIREMENTS = ROOT / "requirements.txt"
LOCK = ROOT / "requirements.lock"
PYPROJECT = ROOT / "pyproject.toml"
LOCK_HEADER = (
    "# The runtime set (requirements.txt) as pip resolves it for Linux, Python 3.11: `make lock` writes it,\n"
    "# `make setup` installs under it, `make audit` checks it. Do not edit by hand.\n"
)


class AuditExceptionError(ValueError):
    """An exception in ``[tool.hub.audit]`` without an id or a reason."""


@dataclass(frozen=True)
class Finding:
    package: str
    version: str
    vulnerability: str
    fixed_in: tuple[str, ...]


@dataclass(frozen=True)
class Verdict:
    findings: tuple[Finding, ...]  # not excused by pyproject.toml
    excused: tuple[Finding, ...]
    unchecked: tuple[str, ...]  # pins the vulnerability service did not answer for
    checked: int

    def failed(self, strict: bool) -> bool:
        return bool(self.findings) or (strict and bool(self.unchecked))


def pinned(report: Mapping[str, Any]) -> list[str]:
    """``name==version`` for each package pip's installation report would install, sorted by name."""
    install = [item["metadata"] for item in report.get("install", [])]
    return sorted((f"{meta['name'].lower()}=={meta['version']}" for meta in install), key=str.lower)


def excused_vulnerabilities(pyproject: Mapping[str, Any]) -> dict[str, str]:
    """Vulnerability id → reason, from ``[[tool.hub.audit.exceptions]]``; an entry without both is refused."""
    entries = pyproject.get("tool", {}).get("hub", {}).get("audit", {}).get("exceptions", [])
    reasons: dict[str, str] = {}
    for entry in entries:
        vulnerability, why = str(entry.get("id", "")).strip(), str(entry.get("why", "")).strip()
        if not vulnerability or not why:
            raise AuditExceptionError(f"each audit exception needs an id and a reason (why): {entry}")
        reasons[vulnerability] = why
    return reasons


def judge(audit: Mapping[str, Any], excused: Mapping[str, str]) -> Verdict:
    """Sort pip-audit's JSON report into findings, excused findings (by id or alias) and unchecked pins."""
    open_findings: list[Finding] = []
    excused_findings: list[Finding] = []
    unchecked: list[str] = []
    checked = 0
    for dependency in audit.get("dependencies", []):
        if "skip_reason" in dependency:
            unchecked.append(str(dependency["name"]))
            continue
        checked += 1
        for vulnerability in dependency.get("vulns", []):
            finding = Finding(
                dependency["name"],
                dependency["version"],
                vulnerability["id"],
                tuple(vulnerability.get("fix_versions", [])),
            )
            names = {vulnerability["id"], *vulnerability.get("aliases", [])}
            (excused_findings if names & excused.keys() else open_findings).append(finding)
    return Verdict(tuple(open_findings), tuple(excused_findings), tuple(unchecked), checked)


def summary(verdict: Verdict, strict: bool) -> str:
    lines = [f"pip-audit: {verdict.checked} pins checked, {len(verdict.unchecked)} not checked"]
    lines += [
        f"  VULNERABLE {f.package} {f.version}: {f.vulnerability} (fixed in {', '.join(f.fixed_in) or 'no release'})"
        for f in verdict.findings
    ]
    lines += [
        f"  excused {f.package} {f.version}: {f.vulnerability} (pyproject.toml)" for f in verdict.excused
    ]
    if verdict.unchecked:
        note = (
            "failing (--strict)"
            if strict
            else "not a pass: the vulnerability service did not answer for them"
        )
        lines.append(f"  not checked, {note}: {', '.join(verdict.unchecked)}")
    return "\n".join(lines)


def _lock() -> int:
    with tempfile.TemporaryDirectory() as folder:
        report = Path(folder) / "report.json"
        command = [sys.executable, "-m", "pip", "install", "--quiet", "--dry-run", "--ignore-installed"]
        command += ["-r", str(REQUIREMENTS), "--report", str(report)]
        subprocess.run(command, check=True)  # noqa: S603 - this interpreter's pip, fixed arguments
        pins = pinned(json.loads(report.read_text(encoding="utf-8")))
    LOCK.write_text(LOCK_HEADER + "".join(f"{pin}\n" for pin in pins), encoding="utf-8")
    print(f"{LOCK.name}: {len(pins)} pins")
    return 0


def _audit(strict: bool) -> int:
    excused = excused_vulnerabilities(tomllib.loads(PYPROJECT.read_text(encoding="utf-8")))
    command = [sys.executable, "-m", "pip_audit", "-r", str(LOCK), "--no-deps", "--disable-pip"]
    command += ["--vulnerability-service", "pypi", "--format", "json", "--progress-spinner", "off"]
    done = subprocess.run(command, check=False, capture_output=True, text=True)  # noqa: S603 - fixed arguments
    try:
        audit = json.loads(done.stdout)
    except ValueError:
        print(f"pip-audit gave no report (exit {done.returncode}): {done.stderr.strip()[-500:]}")
        return 1
    verdict = judge(audit, excused)
    print(summary(verdict, strict))
    return 1 if verdict.failed(strict) else 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m localdev.supply_chain", description=__doc__.split("\n")[0]
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("lock", help="write requirements.lock from requirements.txt")
    audit = commands.add_parser("audit", help="pip-audit over requirements.lock")
    audit.add_argument("--strict", action="store_true", help="fail when a pin could not be checked")
    arguments = parser.parse_args(argv)
    return _lock() if arguments.command == "lock" else _audit(arguments.strict)


if __name__ == "__main__":
    sys.exit(main())
