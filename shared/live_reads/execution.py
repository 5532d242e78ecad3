"""Running a live read's statement on the EDW: bound values only, the engine's time limit, typed rows out.

Every read is a SQLAlchemy Core statement over ``shared/sql/tables.py`` whose
values travel as bound parameters, never as SQL text, so a site number cannot
change what the statement does. The statement and its values are kept
together (:class:`BoundStatement`) so the SQL a read sends can be checked
without running it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, PlainSerializer
from pydantic.alias_generators import to_camel
from sqlalchemy import CompoundSelect, Engine, Select

from shared.sql.engines import stream_rows

PAGE_ROWS = 2000


@dataclass(frozen=True)
class BoundStatement:
    """A statement and the values of its bound parameters."""

    statement: Select[Any] | CompoundSelect[Any]
    parameters: Mapping[str, Any] = field(default_factory=dict)


def fetch(engine: Engine, bound: BoundStatement) -> list[dict[str, Any]]:
    """All rows of ``bound`` as dicts by label; reads are bounded by their parameters, so the rows fit."""
    return [row for page in stream_rows(engine, bound.statement, PAGE_ROWS, bound.parameters) for row in page]


class EdwRow(BaseModel):
    """One row of a live read: built from snake_case labels, sent with camelCase names."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
        frozen=True,
    )


# Money, hours and rates are exact in the EDW; Power Automate reads JSON numbers, not strings.
Amount = Annotated[Decimal, PlainSerializer(float, return_type=float, when_used="json")]
