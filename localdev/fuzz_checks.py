"""Schemathesis checks for ``make fuzz``, loaded through ``SCHEMATHESIS_HOOKS``.

One answer the hub's code never writes cannot be described in Swagger 2.0: the
Functions host refuses a request without a valid function key itself, with a
401 and no body and no Content-Type (Azure does the same). Swagger 2.0 gives
every response of an operation the operation's ``produces`` media types, so
schemathesis's content-type check would fail that bare 401. This check applies
the built-in one to every other answer, and to a 401 that has a body (the hub's
own bearer-token refusals are problem+json and stay checked).
"""

from __future__ import annotations

from typing import Any

import schemathesis
from schemathesis import Case, CheckContext, Response
from schemathesis.specs.openapi.checks import content_type_conformance


@schemathesis.check
def content_type_unless_host_refused_key(
    ctx: CheckContext, response: Response, case: Case[Any]
) -> bool | None:
    """``content_type_conformance`` for everything but the host's own empty 401."""
    if response.status_code == 401 and not response.content:
        return None
    return content_type_conformance(ctx, response, case)
