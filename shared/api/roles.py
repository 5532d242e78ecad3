"""Who is calling the API and what they may do: the app roles an operation requires, and the caller.

Kept apart from ``callers`` (which checks Entra tokens with PyJWT) so the
operations table can name a role without loading the token machinery.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    """The API's app roles: Read, Run and Admin each include the ones before them.

    ``Budget.Approve`` is outside that ladder: approving a budget revision is a
    person's decision, so only an Entra ID token that carries the role grants
    it (DOMAIN.md §5; a function key alone never does, nor does Admin).
    """

    READ = "Integration.Read"
    RUN = "Integration.Run"
    ADMIN = "Integration.Admin"
    BUDGET_APPROVE = "Budget.Approve"

    @property
    def rank(self) -> int | None:
        """Its place on the Read < Run < Admin ladder; None for a role that stands alone."""
        return LADDER.index(self) if self in LADDER else None


LADDER: tuple[Role, ...] = (Role.READ, Role.RUN, Role.ADMIN)


@dataclass(frozen=True)
class Caller:
    """``who`` is what the audit log and the rate limiter key on; it never holds a secret."""

    who: str
    roles: frozenset[Role]

    def may(self, needed: Role) -> bool:
        if needed.rank is None:
            return needed in self.roles
        return any(role.rank is not None and role.rank >= needed.rank for role in self.roles)


ANONYMOUS = Caller("anonymous", frozenset())
