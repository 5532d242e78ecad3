"""The invocation's id on every span and log line its work writes, as App Insights' custom dimension.

The host already tags its own lines with the invocation; this puts the same id
on the hub's (``hub.invocation_id``), so one KQL filter finds both.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import azure.functions as func

from shared.telemetry.dimensions import bound
from shared.telemetry.names import INVOCATION_ID


@contextmanager
def invocation(context: func.Context) -> Iterator[None]:
    with bound({INVOCATION_ID: context.invocation_id}):
        yield
