"""Whether two alternate-key values name the same Dataverse row: the environment's text collation.

Dataverse stores rows in SQL under a collation fixed by the environment's base
language ("Language collations",
https://learn.microsoft.com/power-platform/admin/language-collations): every
language is case insensitive, English (United States) and most others also
accent insensitive (``_CI_AI``: "Cafe" = "café"), a few accent sensitive
(``_CI_AS``). Alternate-key uniqueness and lookups follow it, so the sink
groups records and matches Dataverse's rows to them with the same comparison;
with a plain case fold, "Café" would be reported ``created`` while Dataverse
updated the row "Cafe".
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from enum import StrEnum
from typing import Any


class KeyCollation(StrEnum):
    CI_AI = "CI_AI"  # case and accent insensitive: English (US), Towne Park's environments
    CI_AS = "CI_AS"  # case insensitive, accent sensitive: Finnish, Swedish and a few others

    def fold(self, text: str) -> str:
        """The form two texts share exactly when this collation calls them equal."""
        if self is KeyCollation.CI_AS:
            return text.casefold()
        decomposed = unicodedata.normalize("NFD", text)
        return "".join(char for char in decomposed if not unicodedata.combining(char)).casefold()

    def matcher(self) -> Callable[[tuple[Any, ...]], tuple[Any, ...]]:
        """Key values to the tuple that is equal for every spelling addressing one row."""

        def match(values: tuple[Any, ...]) -> tuple[Any, ...]:
            return tuple(self.fold(value) if isinstance(value, str) else value for value in values)

        return match
