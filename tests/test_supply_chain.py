"""The lock the audit checks is the runtime set as installed, and the audit's verdict follows its report."""

from __future__ import annotations

from collections.abc import Mapping
from importlib.metadata import version
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from localdev.supply_chain import AuditExceptionError, excused_vulnerabilities, judge

ROOT = Path(__file__).resolve().parents[1]


def _lines(path: Path) -> list[str]:
    lines = (line.split("#", 1)[0].strip() for line in path.read_text(encoding="utf-8").splitlines())
    return [line for line in lines if line]


def _pins() -> dict[str, str]:
    return dict(line.split("==", 1) for line in _lines(ROOT / "requirements.lock"))


def test_the_lock_pins_every_runtime_requirement_inside_its_range() -> None:
    pins = _pins()
    for line in _lines(ROOT / "requirements.txt"):
        requirement = Requirement(line)
        name = requirement.name.lower()
        assert name in pins, f"{name} is in requirements.txt but not in requirements.lock: run make lock"
        assert requirement.specifier.contains(pins[name]), f"{name}=={pins[name]} is outside {requirement}"


def test_the_tests_run_on_the_locked_versions() -> None:
    differing = {name: (pin, version(name)) for name, pin in _pins().items() if version(name) != pin}
    assert differing == {}, "make setup installs under requirements.lock"


def _report(*dependencies: Mapping[str, object]) -> dict[str, object]:
    return {"dependencies": list(dependencies), "fixes": []}


VULNERABLE = {
    "name": "example",
    "version": "1.0",
    "vulns": [{"id": "PYSEC-2099-1", "aliases": ["GHSA-aaaa-bbbb-cccc"], "fix_versions": ["1.1"]}],
}


def test_a_reported_vulnerability_fails_the_audit_unless_excused_by_id_or_alias() -> None:
    verdict = judge(_report(VULNERABLE, {"name": "clean", "version": "2.0", "vulns": []}), {})
    assert [(f.package, f.vulnerability, f.fixed_in) for f in verdict.findings] == [
        ("example", "PYSEC-2099-1", ("1.1",))
    ]
    assert verdict.checked == 2 and verdict.failed(strict=False)
    excused = judge(_report(VULNERABLE), {"GHSA-aaaa-bbbb-cccc": "not reachable from the hub"})
    assert excused.findings == () and len(excused.excused) == 1 and not excused.failed(strict=False)


def test_a_pin_the_service_did_not_answer_for_is_unchecked_and_fails_only_a_strict_audit() -> None:
    verdict = judge(_report({"name": "httpx", "skip_reason": "Dependency not found on PyPI"}), {})
    assert verdict.unchecked == ("httpx",) and verdict.checked == 0
    assert not verdict.failed(strict=False) and verdict.failed(strict=True)


def test_an_audit_exception_needs_its_reason() -> None:
    entry = {"tool": {"hub": {"audit": {"exceptions": [{"id": "PYSEC-2099-1", "why": " "}]}}}}
    with pytest.raises(AuditExceptionError, match="needs an id and a reason"):
        excused_vulnerabilities(entry)
    entry["tool"]["hub"]["audit"]["exceptions"][0]["why"] = "fixed by our own pin of the caller"
    assert excused_vulnerabilities(entry) == {"PYSEC-2099-1": "fixed by our own pin of the caller"}
