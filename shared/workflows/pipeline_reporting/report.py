"""The weighted pipeline summed from the synced Opportunities and written to TP_STAGE only where it changed.

The Salesforce streams land every Opportunity in ``bs_salesforceopportunity``
(deleted ones marked ``bs_isdeleted``). Here the live ones are summed per
stage, region and expected opening month: count, amount, and weighted amount
(amount x probability / 100, per opportunity, as Salesforce's ExpectedRevenue
is). The sums are compared with what ``HUB_SALESFORCE_PIPELINE`` holds, and
only a new, changed or vanished group is written, in one transaction, so a
run with nothing changed in Salesforce writes nothing and Power BI's refresh
never sees a half-written table. A few hundred or thousand opportunities are
read whole each run (one query of a few pages): a group's sum cannot be moved
by the changed records alone once one leaves it for another stage.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, and_, delete, insert, select, update

from shared.connectors.dataverse.client import DataverseClient
from shared.workflows.pipeline_reporting.table import NO_OPENING, NO_REGION, pipeline_rows

OPPORTUNITIES = "bs_salesforceopportunities"
_COLUMNS = ("bs_stage", "bs_region", "bs_expectedopening", "bs_amount", "bs_probability", "bs_isdeleted")
_CENTS = Decimal("0.01")

GroupKey = tuple[str, str, str]  # stage, region, opening month


@dataclass(frozen=True)
class PipelineGroup:
    """One stage, region and opening month's opportunities: how many, their amount and weighted amount."""

    stage: str
    region: str
    opening_month: str
    opportunities: int
    amount: Decimal
    weighted_amount: Decimal

    @property
    def key(self) -> GroupKey:
        return (self.stage, self.region, self.opening_month)


@dataclass(frozen=True)
class PipelineWritten:
    """What a run wrote: groups added, changed and removed (all zero when nothing changed)."""

    added: int
    changed: int
    removed: int


def pipeline_groups(opportunities: Iterable[Mapping[str, Any]]) -> dict[GroupKey, PipelineGroup]:
    """The live opportunities summed by stage, region and opening month."""
    sums: dict[GroupKey, tuple[int, Decimal, Decimal]] = {}
    for row in opportunities:
        if row.get("bs_isdeleted"):
            continue
        amount = Decimal(str(row.get("bs_amount") or 0))
        weighted = (amount * Decimal(str(row.get("bs_probability") or 0)) / 100).quantize(_CENTS)
        opening = str(row.get("bs_expectedopening") or "")[:7] or NO_OPENING
        key = (str(row["bs_stage"]), str(row.get("bs_region") or NO_REGION), opening)
        count, total, total_weighted = sums.get(key, (0, Decimal(0), Decimal(0)))
        sums[key] = (count + 1, total + amount, total_weighted + weighted)
    return {
        key: PipelineGroup(*key, count, total.quantize(_CENTS), weighted.quantize(_CENTS))
        for key, (count, total, weighted) in sums.items()
    }


class PipelineReporting:
    """Keeps ``HUB_SALESFORCE_PIPELINE`` equal to the synced Opportunities' sums, writing only differences."""

    def __init__(self, dataverse: DataverseClient, edw: Engine, now: Callable[[], datetime]) -> None:
        self._dataverse = dataverse
        self._edw = edw
        self._now = now

    def run(self) -> PipelineWritten:
        wanted = pipeline_groups(self._dataverse.query(OPPORTUNITIES, _COLUMNS))
        held = {group.key: group for group in self.groups()}
        added = [group for key, group in wanted.items() if key not in held]
        changed = [group for key, group in wanted.items() if key in held and held[key] != group]
        removed = [key for key in held if key not in wanted]
        if added or changed or removed:
            stamp = self._now().replace(tzinfo=None)
            with self._edw.begin() as connection:
                if added:
                    connection.execute(insert(pipeline_rows), [_row(group, stamp) for group in added])
                for group in changed:
                    connection.execute(update(pipeline_rows).where(_is(group.key)).values(_row(group, stamp)))
                for key in removed:
                    connection.execute(delete(pipeline_rows).where(_is(key)))
        return PipelineWritten(len(added), len(changed), len(removed))

    def groups(
        self, stage: str | None = None, region: str | None = None, opening_month: str | None = None
    ) -> list[PipelineGroup]:
        """The table's groups, each filter applied when given, in stage, region and month order."""
        columns = pipeline_rows.c
        query = select(
            columns.STAGE,
            columns.REGION,
            columns.OPENING_MONTH,
            columns.OPPORTUNITIES,
            columns.AMOUNT,
            columns.WEIGHTED_AMOUNT,
        ).order_by(columns.STAGE, columns.REGION, columns.OPENING_MONTH)
        for column, wanted in (
            (columns.STAGE, stage),
            (columns.REGION, region),
            (columns.OPENING_MONTH, opening_month),
        ):
            if wanted is not None:
                query = query.where(column == wanted)
        with self._edw.connect() as connection:
            return [
                PipelineGroup(
                    row.STAGE,
                    row.REGION,
                    row.OPENING_MONTH,
                    int(row.OPPORTUNITIES),
                    Decimal(str(row.AMOUNT)).quantize(_CENTS),
                    Decimal(str(row.WEIGHTED_AMOUNT)).quantize(_CENTS),
                )
                for row in connection.execute(query)
            ]


def _is(key: GroupKey) -> Any:
    columns = pipeline_rows.c
    return and_(columns.STAGE == key[0], columns.REGION == key[1], columns.OPENING_MONTH == key[2])


def _row(group: PipelineGroup, stamp: datetime) -> dict[str, Any]:
    return {
        "STAGE": group.stage,
        "REGION": group.region,
        "OPENING_MONTH": group.opening_month,
        "OPPORTUNITIES": group.opportunities,
        "AMOUNT": group.amount,
        "WEIGHTED_AMOUNT": group.weighted_amount,
        "UPDATED_AT": stamp,
    }
