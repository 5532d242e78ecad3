"""Requests and settings the tests' hubs share for the sandbox Salesforce org: signed leads, sign-in settings.

A plain module, not a fixture plugin, so fixtures and tests may import it freely.
"""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any

from localdev.sandbox.salesforce.org import CLIENT_ID, CLIENT_SECRET
from shared.workflows.lead_capture.signature import sign

if TYPE_CHECKING:
    from tests.fixtures.dataverse_sandbox import DataverseSandbox

LEAD_SIGNING_KEY = "test-lead-capture-key"  # SECRET_LEAD_CAPTURE_SIGNING_SECRET of the tests' hubs


def signed_lead(
    lead: dict[str, Any], idempotency_key: str, key: str = LEAD_SIGNING_KEY
) -> tuple[bytes, dict[str, str]]:
    """A lead's body and the headers a web form's server sends with it (signed now)."""
    body = json.dumps(lead).encode()
    stamp = int(time.time())
    headers = {
        "idempotency-key": idempotency_key,
        "x-hub-timestamp": str(stamp),
        "x-hub-signature": sign(key, stamp, body),
        "content-type": "application/json",
    }
    return body, headers


def salesforce_settings(sandbox: DataverseSandbox) -> dict[str, str]:
    """The settings that point a test hub at the sandbox org (it lives in the sandbox's process)."""
    return {
        "SALESFORCE_URL": sandbox.url,
        "SALESFORCE_CLIENT_ID": CLIENT_ID,
        "SECRET_SALESFORCE_CLIENT_SECRET": CLIENT_SECRET,
        "SECRET_LEAD_CAPTURE_SIGNING_SECRET": LEAD_SIGNING_KEY,
    }
