"""Who may post a lead: an HMAC-SHA256 over the timestamp and the body, with a shared key, fresh for 5 minutes.

A web form's server (or a marketing tool) signs ``<timestamp>.<body bytes>``
with the key the hub keeps in Key Vault (``lead-capture-signing-secret``) and
sends ``X-Hub-Timestamp: <unix seconds>`` and ``X-Hub-Signature:
sha256=<hex>``, the scheme Stripe and Slack use for their webhooks. The
timestamp is inside the signature, so a captured request cannot be replayed
with a new one; one older (or further ahead) than ``TOLERANCE_SECONDS`` is
refused whatever its signature. Digests are compared in constant time.
"""

from __future__ import annotations

import hashlib
import hmac

TOLERANCE_SECONDS = 300
TIMESTAMP_HEADER = "x-hub-timestamp"
SIGNATURE_HEADER = "x-hub-signature"
_PREFIX = "sha256="


class SignatureRefusedError(Exception):
    """The request is not one a key holder sent in the last five minutes; the message says which check failed."""


def sign(key: str, timestamp: int, body: bytes) -> str:
    """The ``X-Hub-Signature`` value for ``body`` sent at ``timestamp``."""
    digest = hmac.new(key.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return _PREFIX + digest


def verify(key: str, timestamp: str | None, signature: str | None, body: bytes, now: float) -> None:
    """Return when the signature is the key's over this body and timestamp, and the timestamp is fresh."""
    if not timestamp or not timestamp.isdigit():
        raise SignatureRefusedError(f"{TIMESTAMP_HEADER} must be the time of signing in Unix seconds")
    if abs(now - int(timestamp)) > TOLERANCE_SECONDS:
        raise SignatureRefusedError(f"{TIMESTAMP_HEADER} is more than {TOLERANCE_SECONDS} s from now")
    if not signature or not signature.startswith(_PREFIX):
        raise SignatureRefusedError(f"{SIGNATURE_HEADER} must be sha256=<hex HMAC of '<timestamp>.<body>'>")
    if not hmac.compare_digest(signature, sign(key, int(timestamp), body)):
        raise SignatureRefusedError(f"{SIGNATURE_HEADER} does not match the body and timestamp")
