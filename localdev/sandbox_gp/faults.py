"""Sandbox GP's fault switches: the failures between the hub and SmartConnect that its modes do not give.

Set as the sandbox Dataverse's are (``/sandbox/faults``), so one scenario
runner drives both: ``POST /admin/faults`` with ``{"fault", "count",
"fraction", "seed"}`` arms one fault for the next ``count`` calls and/or a
seeded ``fraction`` of them; ``GET`` shows what is armed and how often each
struck; ``DELETE`` (or ``POST /admin/reset``) disarms them all. A mode
(``/admin/mode``) is looked at first: a call the mode answers meets no fault.

- ``throttled``: 429 with ``Retry-After`` in whole seconds (``"seconds"``,
  default 1), as the relay or IIS in front of SmartConnect sends when it sheds
  load; nothing is run.
- ``unavailable``: 503 with IIS's plain page; nothing is run.
- ``dropped_connection``: the connection is aborted with no answer before the
  map runs.
- ``dropped_after_apply``: the map runs (its documents are written to the
  company, or refused) and then the connection is aborted before the answer,
  the case where only a look at GP tells whether to post again.
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from localdev.outage import FaultSetting, FaultSwitches

THROTTLED = "throttled"
UNAVAILABLE = "unavailable"
DROPPED = "dropped_connection"
DROPPED_AFTER_APPLY = "dropped_after_apply"
FAULTS = frozenset({THROTTLED, UNAVAILABLE, DROPPED, DROPPED_AFTER_APPLY})
DEFAULT_RETRY_AFTER_SECONDS = 1


class GpFaults:
    """The armed faults and the ``Retry-After`` a throttled call carries."""

    def __init__(self) -> None:
        self.switches = FaultSwitches(FAULTS)
        self.retry_after_seconds = DEFAULT_RETRY_AFTER_SECONDS

    def refusal(self) -> Response | None:
        """The answer of a fault that strikes before the map runs, if one does (a drop is asked apart)."""
        if self.switches.strikes(THROTTLED):
            return Response(
                "Too many requests", status_code=429, headers={"Retry-After": str(self.retry_after_seconds)}
            )
        if self.switches.strikes(UNAVAILABLE):
            return Response(
                "<html><body><h1>Service Unavailable</h1></body></html>",
                status_code=503,
                media_type="text/html",
            )
        return None

    def clear(self) -> None:
        self.switches.clear()
        self.retry_after_seconds = DEFAULT_RETRY_AFTER_SECONDS

    def as_json(self) -> dict[str, Any]:
        return self.switches.as_json()

    async def admin(self, request: Request) -> Response:
        """``/admin/faults``: ``{"fault": "throttled", "fraction": 0.2, "seed": 7, "seconds": 2}``."""
        if request.method == "DELETE":
            self.clear()
        elif request.method == "POST":
            try:
                document = orjson.loads(await request.body() or b"{}")
                if not isinstance(document, dict):
                    raise TypeError("the body must be a JSON object")
                setting = FaultSetting.from_json(document)
                seconds = document.get("seconds", self.retry_after_seconds)
                if isinstance(seconds, bool) or not isinstance(seconds, int) or seconds < 0:
                    raise ValueError("seconds must be a whole number of seconds, 0 or more")
                self.switches.configure(str(document.get("fault")), setting)
                if document.get("fault") == THROTTLED:
                    self.retry_after_seconds = seconds
            except (orjson.JSONDecodeError, TypeError, ValueError) as error:
                return JSONResponse({"error": f"fault not usable: {error}"}, status_code=400)
        return JSONResponse(self.as_json())
