"""The hub a trigger works with, built on its first use rather than when the app is indexed.

The worker imports ``function_app.py`` on every cold start before it serves
anything; importing the composition root there would load every SDK (Blob,
Table, Service Bus, SQLAlchemy, MSAL) first. Triggers ask for ``hub()`` here
instead, so those imports are paid by the first invocation that needs them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from shared.api.service import HubApi
    from shared.composition import Hub


def hub() -> Hub:
    from shared.composition import hub as composed

    return composed()


def hub_api() -> HubApi:
    from shared.api.wiring import hub_api as wired

    return wired()
