"""The hub a trigger works with, built on its first use rather than when the app is indexed.

The worker imports ``function_app.py`` on every cold start before it serves
anything; importing the composition root there would load every SDK (Blob,
Table, Service Bus, SQLAlchemy, MSAL) first. Triggers ask for ``hub()`` here
instead, so those imports are paid by the first invocation that needs them.

Telemetry is set up here too, once, before the hub is built: the Azure
Monitor distro (or the local SDK exporters) costs a few hundred milliseconds
to import, which a cold start would otherwise pay before serving anything.
The full settings (pydantic, about a hundred milliseconds to import) are read
here too: ``function_app.py`` checks at start only what pays no such import
(``shared/settings_at_start.py``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from shared.telemetry.startup import start_telemetry

if TYPE_CHECKING:
    from shared.api.service import HubApi
    from shared.composition import Hub


def hub() -> Hub:
    from shared.composition import hub as composed
    from shared.settings import hub_settings

    start_telemetry(hub_settings())
    return composed()


def hub_api() -> HubApi:
    from shared.api.wiring import hub_api as wired
    from shared.settings import hub_settings

    start_telemetry(hub_settings())
    return wired()
