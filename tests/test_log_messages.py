"""Log lines are sentences an operator reads: no dataclass, dict or model dumped into a message."""

from __future__ import annotations

import ast
from pathlib import Path

from shared.pipeline.watchdog import WatchReport

ROOT = Path(__file__).resolve().parents[1]
_LOG_METHODS = {"debug", "info", "warning", "error", "exception", "critical", "log"}
# Calls whose result is a structure, not words: a log line built from one reads as a repr.
_DUMPS = {"asdict", "to_json", "model_dump", "model_dump_json", "vars", "repr"}


def _dumped_structures(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if not (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in _LOG_METHODS
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id in {"log", "logger", "logging"}
        ):
            continue
        for argument in node.args[1:]:
            for part in ast.walk(argument):
                called = part.func if isinstance(part, ast.Call) else None
                name = getattr(called, "attr", None) or getattr(called, "id", None)
                if isinstance(part, ast.Dict | ast.DictComp | ast.List | ast.ListComp) or name in _DUMPS:
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


def test_no_log_call_formats_a_structure() -> None:
    sources = [*ROOT.joinpath("shared").rglob("*.py"), *ROOT.joinpath("functions").rglob("*.py")]
    found = [line for path in sorted(sources) for line in _dumped_structures(path)]
    assert found == [], "log calls that print a dict, list or dataclass dump instead of words"


def test_the_watchdog_tells_what_it_did_in_words() -> None:
    report = WatchReport(republished=["r1", "r2"], slots_released=["r3"])
    assert report.in_words() == (
        "2 run request(s) published again (r1, r2); 1 finished run(s) gave back their stream's slot (r3)"
    )
    assert WatchReport().in_words() == ""
