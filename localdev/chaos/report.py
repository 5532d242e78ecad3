"""The one table a chaos run ends with: what was injected (by the switches' own counters and the runner's
log of kills and restarts), what held, and how long it all took."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from localdev.chaos.proof import ProofLine


@dataclass(frozen=True)
class Injected:
    what: str
    count: int | None  # None: this checkout has no such switch


def table(injected: Sequence[Injected], proof: Sequence[ProofLine], seconds: Mapping[str, float]) -> str:
    width = max(len(line.claim) for line in proof) if proof else 40
    width = max(width, *(len(item.what) for item in injected)) if injected else width
    lines = [f"{'injected':<{width}}  count"]
    for item in injected:
        lines.append(f"{item.what:<{width}}  {'switch missing' if item.count is None else f'{item.count:,}'}")
    lines.append("")
    lines.append(f"{'proof':<{width}}  result  numbers")
    for line in proof:
        lines.append(f"{line.claim:<{width}}  {'held  ' if line.held else 'FAILED'}  {line.numbers}")
    lines.append("")
    lines.append("   ".join(f"{phase} {value:,.0f} s" for phase, value in seconds.items()))
    return "\n".join(lines)
