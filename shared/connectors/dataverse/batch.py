"""The ``$batch`` wire format: many Web API requests in one multipart/mixed body, and their answers.

Follows Microsoft's "Execute batch operations using the Web API" (OData 4.0
§11.7): each request is a part with ``Content-Type: application/http`` and
``Content-Transfer-Encoding: binary`` holding a raw HTTP request; the answer
is a multipart/mixed body whose parts hold raw HTTP responses in request order
(a change set's answers nest one level down). At most 1000 requests a batch.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

MAX_OPERATIONS = 1000
_CRLF = b"\r\n"
_BOUNDARY = re.compile(r'boundary=(?:"([^"]+)"|([^;\s]+))', re.IGNORECASE)
_STATUS_LINE = re.compile(rb"HTTP/\d(?:\.\d)?\s+(\d{3})")
_BLANK_LINE = re.compile(rb"\r?\n\r?\n")


class BatchFormatError(ValueError):
    """A ``$batch`` answer that does not follow the multipart format; says what was wrong."""


@dataclass(frozen=True)
class BatchOperation:
    """One request inside a batch: method, absolute URL, its own headers, and a JSON body if any."""

    method: str
    url: str
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes | None = None


@dataclass(frozen=True)
class BatchPartResponse:
    """One request's answer: status, headers (names lower-cased) and raw body."""

    status: int
    headers: Mapping[str, str]
    body: bytes

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


def build_batch(operations: Sequence[BatchOperation], boundary: str | None = None) -> tuple[str, bytes]:
    """The ``Content-Type`` header and body of a ``POST $batch`` carrying ``operations`` in order."""
    if not operations:
        raise ValueError("a batch needs at least one operation")
    if len(operations) > MAX_OPERATIONS:
        raise ValueError(f"a batch holds at most {MAX_OPERATIONS} operations, not {len(operations)}")
    boundary = boundary or f"batch_{uuid.uuid4()}"
    delimiter = b"--" + boundary.encode("ascii")
    chunks: list[bytes] = []
    for operation in operations:
        head = [
            delimiter,
            b"Content-Type: application/http",
            b"Content-Transfer-Encoding: binary",
            b"",
            f"{operation.method.upper()} {operation.url} HTTP/1.1".encode("ascii"),
        ]
        headers = dict(operation.headers)
        if operation.body is not None:
            headers.setdefault("Content-Type", "application/json; type=entry")
        head.extend(f"{name}: {value}".encode("latin-1") for name, value in headers.items())
        head.append(b"")
        chunks.append(_CRLF.join(head) + _CRLF + (operation.body or b"") + _CRLF)
    chunks.append(delimiter + b"--" + _CRLF)
    return f'multipart/mixed; boundary="{boundary}"', b"".join(chunks)


def is_multipart(content_type: str | None) -> bool:
    return (content_type or "").lower().startswith("multipart/mixed")


def parse_batch_response(content_type: str, body: bytes) -> list[BatchPartResponse]:
    """Every response in a ``$batch`` answer, in order, change-set answers flattened in place."""
    responses: list[BatchPartResponse] = []
    for part in _parts(body, _boundary(content_type)):
        part_headers, payload = _split_head(part)
        part_type = part_headers.get("content-type", "")
        if is_multipart(part_type):
            responses.extend(parse_batch_response(part_type, payload))
        elif part_type.lower().startswith("application/http"):
            responses.append(_http_response(payload))
        else:
            raise BatchFormatError(f"a batch part has Content-Type {part_type or 'missing'}")
    return responses


def _boundary(content_type: str) -> str:
    match = _BOUNDARY.search(content_type)
    if not match:
        raise BatchFormatError(f"no boundary in Content-Type {content_type!r}")
    return match.group(1) or match.group(2)


def _parts(body: bytes, boundary: str) -> list[bytes]:
    """The parts between delimiter lines; RFC 2046 gives the line break before a delimiter to it."""
    delimiter = re.compile(rb"(?m)^--" + re.escape(boundary.encode("ascii")) + rb"(--)?[ \t]*\r?$\n?")
    parts: list[bytes] = []
    start: int | None = None
    closed = False
    for match in delimiter.finditer(body):
        if start is not None:
            parts.append(re.sub(rb"\r?\n\Z", b"", body[start : match.start()], count=1))
        if match.group(1):
            closed = True
            break
        start = match.end()
    if not closed:
        raise BatchFormatError(f"the batch answer never closes its boundary {boundary}")
    return parts


def _split_head(block: bytes) -> tuple[dict[str, str], bytes]:
    """Header lines up to the first blank line (names lower-cased), and everything after it."""
    separator = _BLANK_LINE.search(block)
    head, rest = (block[: separator.start()], block[separator.end() :]) if separator else (block, b"")
    headers: dict[str, str] = {}
    for line in head.decode("latin-1").splitlines():
        name, colon, value = line.partition(":")
        if colon:
            headers[name.strip().lower()] = value.strip()
    return headers, rest


def _http_response(payload: bytes) -> BatchPartResponse:
    status_line, _, rest = payload.lstrip(b"\r\n").partition(b"\n")
    match = _STATUS_LINE.match(status_line.strip())
    if not match:
        raise BatchFormatError(f"a batch part does not start with an HTTP status line: {status_line[:80]!r}")
    headers, body = ({}, rest) if rest.startswith((b"\r\n", b"\n")) else _split_head(rest)
    return BatchPartResponse(status=int(match.group(1)), headers=headers, body=body.strip())
