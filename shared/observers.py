"""Telling a store's observers of each write it made, without letting one of them undo the write."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import TypeVar

log = logging.getLogger(__name__)
Record = TypeVar("Record")


def tell(
    observers: Sequence[Callable[[Record | None, Record], None]],
    before: Record | None,
    after: Record,
    what: str,
) -> None:
    """Each observer hears of the write of ``what``; one that fails is logged and the rest still hear."""
    for observer in observers:
        try:
            observer(before, after)
        except Exception:
            log.exception("An observer of %s failed", what)
