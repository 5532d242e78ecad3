"""Who is calling the API and what they may do: the app roles an operation requires, and the caller.

Kept apart from ``callers`` (which checks Entra tokens with PyJWT) so the
operations table can name a role without loading the token machinery.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    """The API's app roles; each includes the ones before it."""

    READ = "Integration.Read"
    RUN = "Integration.Run"
    ADMIN = "Integration.Admin"

    @property
    def rank(self) -> int:
        return list(Role).index(self)


@dataclass(frozen=True)
class Caller:
    """``who`` is what the audit log and the rate limiter key on; it never holds a secret."""

    who: str
    roles: frozenset[Role]

    def may(self, needed: Role) -> bool:
        return any(role.rank >= needed.rank for role in self.roles)


ANONYMOUS = Caller("anonymous", frozenset())
