"""Credentials scrubbed from any text before it reaches a log, a run record, an answer or a dead-letter reason.

Bearer and Basic credentials, JWTs, and the values of credential-like names
(``client_secret=``, ``Password=``, ``AccountKey=``, ``sig=``, ``"token": ``)
become ``***``; everything else is left as it was, so the text still says
what went wrong.
"""

from __future__ import annotations

import re

_SENSITIVE_NAMES = (
    "authorization",
    "access_token",
    "refresh_token",
    "id_token",
    "token",
    "client_secret",
    "client_assertion",
    "secret",
    "password",
    "pwd",
    "accountkey",
    "account_key",
    "sharedaccesskey",
    "shared_access_key",
    "sharedaccesssignature",
    "connection_string",
    "sig",
)
_NAMED_SECRET = re.compile(
    r"(?i)(\b(?:" + "|".join(_SENSITIVE_NAMES) + r")\b[\"']?\s*[:=]\s*)(?:Bearer\s+|Basic\s+)?"
    r"(\"[^\"]*\"|'[^']*'|[^\s\"'&;,}]+)"
)
_BEARER = re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9\-._~+/]+=*")
_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*")
REDACTED = "***"


def redact(text: str) -> str:
    """Return ``text`` with anything that looks like a credential replaced by ``***``."""
    text = _NAMED_SECRET.sub(lambda match: match.group(1) + REDACTED, text)
    text = _BEARER.sub(lambda match: match.group(1) + " " + REDACTED, text)
    return _JWT.sub(REDACTED, text)


def is_sensitive_name(name: str) -> bool:
    folded = name.lower().replace("-", "_")
    return any(folded == sensitive or folded.endswith("_" + sensitive) for sensitive in _SENSITIVE_NAMES)
