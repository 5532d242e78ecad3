"""How the environment compares text: its SQL collation's case and accent options.

Microsoft's "Language collations" page
(https://learn.microsoft.com/power-platform/admin/language-collations): every
language is case insensitive (``_CI``); English (United States, LCID 1033) and
most others are also accent insensitive (``_AI``, "cafe" = "café"), a few, such
as Finnish and Swedish, accent sensitive (``_AS``). The collation is chosen
with the environment's base language and cannot be changed afterwards, so the
sandbox takes it at start and refuses to change it once rows are stored. It
decides alternate-key uniqueness and lookups, ``$filter`` comparisons and
``$orderby``.
"""

from __future__ import annotations

import unicodedata
from enum import StrEnum


class Collation(StrEnum):
    CI_AI = "CI_AI"  # case and accent insensitive: English (US), the default
    CI_AS = "CI_AS"  # case insensitive, accent sensitive

    def fold(self, text: str) -> str:
        """The form two texts share exactly when this collation calls them equal."""
        if self is Collation.CI_AS:
            return text.casefold()
        decomposed = unicodedata.normalize("NFD", text)
        return "".join(char for char in decomposed if not unicodedata.combining(char)).casefold()


DEFAULT_COLLATION = Collation.CI_AI
