"""The forecast's use cases: a variance read for some sites and a year, and a calculation written as a snapshot.

Both read their inputs from Dataverse (``inputs.read_inputs``) and apply the
trending rules (``variance.variance``); a calculation then writes the
forecast to TP_STAGE (``snapshots.ForecastSnapshots``) with the inputs'
watermarks. A calculation is started by ``POST /api/v1/forecast/snapshots``
(a Power Automate flow runs it after the input streams' runs settle, or on
demand): the hub's API style, and small enough to answer in one call for a
district.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine

from shared.forecast.inputs import DataverseRows, ForecastInputs, district_sites, read_inputs
from shared.forecast.snapshots import ForecastLine, ForecastSnapshots, Snapshot, WrittenSnapshot, snapshot_id
from shared.forecast.trending import CATEGORIES
from shared.forecast.variance import VarianceLine, variance


@dataclass(frozen=True)
class SiteVariance:
    inputs: ForecastInputs
    lines: list[VarianceLine]


@dataclass(frozen=True)
class Calculation:
    snapshot: Snapshot
    written: WrittenSnapshot


def forecast_lines(lines: Sequence[VarianceLine]) -> tuple[ForecastLine, ...]:
    """Each site, period (yyyyMM) and summary category's forecast; FLC is not a category of the view."""
    return tuple(
        ForecastLine(line.site, line.period.replace("-", ""), line.line, line.forecast)
        for line in lines
        if line.line in CATEGORIES
    )


class EdwNotConfiguredError(Exception):
    """A calculation needs the EDW's TP_STAGE to write to, and this hub has no EDW connection."""


class ForecastDesk:
    """Answers variance reads and runs calculations, from the hub's Dataverse client and EDW engine."""

    def __init__(
        self,
        dataverse: DataverseRows,
        edw: Callable[[], Engine],
        now: Callable[[], datetime],
    ) -> None:
        self._dataverse = dataverse
        self._edw = edw
        self._now = now

    def district_sites(self, district: str) -> list[str]:
        return district_sites(self._dataverse, district)

    def variance(self, sites: Sequence[str], year: int) -> SiteVariance:
        inputs = read_inputs(self._dataverse, sites, year)
        return SiteVariance(inputs, variance(inputs))

    def calculate(self, sites: Sequence[str], year: int) -> Calculation:
        """The forecast of ``sites`` for ``year``, appended to TP_STAGE as one snapshot."""
        try:
            edw = self._edw()
        except LookupError as missing:
            raise EdwNotConfiguredError(str(missing)) from None
        read = self.variance(sites, year)
        calculated_at = self._now()
        lines = forecast_lines(read.lines)
        snapshot = Snapshot(
            snapshot_id(calculated_at, year, lines), calculated_at, year, read.inputs.watermarks, lines
        )
        written = ForecastSnapshots(edw, self._now).write(snapshot)
        return Calculation(snapshot, written)
