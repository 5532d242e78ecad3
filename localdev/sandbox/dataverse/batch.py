"""``POST $batch``: many Web API requests in one multipart/mixed body, answered in the same shape.

As Microsoft's "Execute batch operations using the Web API" describes it (OData
4.0 §11.7): each part is ``Content-Type: application/http`` holding a raw
request whose URL is absolute, absolute-path or relative to the root; a part of
type ``multipart/mixed`` is a change set, whose requests (never GETs) commit
together or not at all and may name each other's new rows as ``$<Content-ID>``.
At most 1000 requests per batch. Answers come in request order under a
``batchresponse_`` boundary, a change set's nested under ``changesetresponse_``.

Failure handling, from the same page: without ``Prefer: odata.continue-on-error``
the batch stops at the first failed request and the batch answer takes that
request's status (Microsoft's example shows 400 for a failed first request; the
sandbox applies the same rule wherever the failure is, and still lists the
answers before it); with the preference the batch answers 200 and every request
runs. A failed change set answers with the one failing request's response, as
OData 4.0 prescribes; its other requests are rolled back.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus

from localdev.sandbox.dataverse.errors import ODataError, bad_request
from localdev.sandbox.dataverse.webapi import (
    API_PATH,
    ApiReply,
    ApiRequest,
    WebApi,
    error_reply,
    parse_prefer,
)

MAX_REQUESTS = 1000
_BOUNDARY = re.compile(r'boundary=(?:"([^"]+)"|([^;\s]+))', re.IGNORECASE)
_REQUEST_LINE = re.compile(r"([A-Z]+)\s+(\S+)(?:\s+HTTP/\d(?:\.\d)?)?")
_BLANK_LINE = re.compile(rb"\r?\n\r?\n")


@dataclass(frozen=True)
class _Part:
    request: ApiRequest
    content_id: str | None


@dataclass
class _ChangeSet:
    parts: list[_Part] = field(default_factory=list)


def boundary_of(content_type: str) -> str:
    match = _BOUNDARY.search(content_type)
    if not content_type.lower().startswith("multipart/mixed") or match is None:
        raise bad_request("A $batch request must have Content-Type multipart/mixed with a boundary.")
    return match.group(1) or match.group(2)


def _split(body: bytes, boundary: str) -> list[bytes]:
    """Parts between ``--boundary`` lines up to ``--boundary--``; a delimiter owns the break before it."""
    delimiter = re.compile(rb"(?m)^--" + re.escape(boundary.encode("latin-1")) + rb"(--)?[ \t]*\r?$\n?")
    parts: list[bytes] = []
    start: int | None = None
    for match in delimiter.finditer(body):
        if start is not None:
            parts.append(re.sub(rb"\r?\n\Z", b"", body[start : match.start()], count=1))
        if match.group(1):
            return parts
        start = match.end()
    raise bad_request(f"The $batch body never closes its boundary '{boundary}'.")


def _head(block: bytes) -> tuple[dict[str, str], bytes]:
    """Header lines up to the first blank line (names lower-cased) and what follows."""
    separator = _BLANK_LINE.search(block)
    if separator is None:
        head, rest = block, b""
    else:
        head, rest = block[: separator.start()], block[separator.end() :]
    headers: dict[str, str] = {}
    for line in head.decode("latin-1").splitlines():
        name, colon, value = line.partition(":")
        if colon:
            headers[name.strip().lower()] = value.strip()
    return headers, rest


class Batch:
    """Parses and runs one ``$batch`` against a Web API."""

    def __init__(self, api: WebApi, refuse_operation: Callable[[], ApiReply | None] = lambda: None) -> None:
        self.api = api
        # A test control: an answer to give one operation instead of running it (a 429 inside the batch).
        self._refuse_operation = refuse_operation

    def run(self, content_type: str, body: bytes, prefer_header: str) -> tuple[ApiReply, int]:
        """The batch answer and how many requests it carried (what a service-protection counter sees)."""
        try:
            items = self._parse(boundary_of(content_type), body)
        except ODataError as error:
            return error_reply(error), 0
        count = sum(len(item.parts) if isinstance(item, _ChangeSet) else 1 for item in items)
        if count > MAX_REQUESTS:
            return error_reply(
                bad_request(
                    f"The number of requests in the batch ({count}) exceeds the limit of {MAX_REQUESTS}."
                )
            ), count
        continue_on_error = "odata.continue-on-error" in parse_prefer(prefer_header)
        boundary = f"batchresponse_{uuid.uuid4()}"
        chunks: list[bytes] = []
        status = 200
        for item in items:
            if isinstance(item, _ChangeSet):
                chunk, failed = self._run_change_set(item)
            else:
                reply = self._refuse_operation() or self.api.handle(item.request)
                chunk, failed = _http_part(reply, None), (reply.status if reply.status >= 400 else None)
            chunks.append(b"--" + boundary.encode() + b"\r\n" + chunk)
            if failed is not None and not continue_on_error:
                status = failed
                break
        payload = b"".join(chunks) + b"--" + boundary.encode() + b"--\r\n"
        headers = {"OData-Version": "4.0", "Content-Type": f"multipart/mixed; boundary={boundary}"}
        if continue_on_error:
            headers["Preference-Applied"] = "odata.continue-on-error"
        return ApiReply(status, headers, payload), count

    def _run_change_set(self, change_set: _ChangeSet) -> tuple[bytes, int | None]:
        references: dict[str, str] = {}
        answers: list[tuple[ApiReply, str | None]] = []
        failure: tuple[ApiReply, str | None] | None = None
        try:
            with self.api.store.transaction():
                for part in change_set.parts:
                    try:
                        reply = self.api.execute(part.request, references)
                    except ODataError as error:
                        failure = (error_reply(error), part.content_id)
                        raise
                    answers.append((reply, part.content_id))
                    entity = reply.headers.get("OData-EntityId")
                    if part.content_id and entity:
                        references[part.content_id] = entity.removeprefix(self.api.root)
        except ODataError:
            assert failure is not None
            reply, content_id = failure
            return _http_part(reply, content_id), reply.status
        boundary = f"changesetresponse_{uuid.uuid4()}"
        inner = b"".join(
            b"--" + boundary.encode() + b"\r\n" + _http_part(reply, content_id)
            for reply, content_id in answers
        )
        head = f"Content-Type: multipart/mixed; boundary={boundary}\r\n\r\n".encode()
        return head + inner + b"--" + boundary.encode() + b"--\r\n", None

    def _parse(self, boundary: str, body: bytes) -> list[_Part | _ChangeSet]:
        items: list[_Part | _ChangeSet] = []
        for block in _split(body, boundary):
            headers, content = _head(block)
            part_type = headers.get("content-type", "")
            if part_type.lower().startswith("multipart/mixed"):
                change_set = _ChangeSet()
                for inner in _split(content, boundary_of(part_type)):
                    inner_headers, inner_content = _head(inner)
                    part = self._request(inner_headers, inner_content)
                    if part.request.method == "GET":
                        raise bad_request("GET requests are not allowed inside a change set.")
                    change_set.parts.append(part)
                items.append(change_set)
            else:
                items.append(self._request(headers, content))
        if not items:
            raise bad_request("The $batch request holds no requests.")
        return items

    def _request(self, part_headers: Mapping[str, str], content: bytes) -> _Part:
        if not part_headers.get("content-type", "").lower().startswith("application/http"):
            raise bad_request("Each $batch part must have Content-Type application/http or multipart/mixed.")
        request_line, _, rest = content.lstrip(b"\r\n").partition(b"\n")
        match = _REQUEST_LINE.fullmatch(request_line.decode("latin-1").strip())
        if match is None:
            raise bad_request(f"A $batch part does not start with a request line: {request_line[:80]!r}.")
        if rest.startswith((b"\r\n", b"\n")):
            headers: dict[str, str] = {}
            payload = rest
        else:
            headers, payload = _head(rest)
        return _Part(
            ApiRequest(match.group(1), self._relative(match.group(2)), headers, payload.strip()),
            part_headers.get("content-id"),
        )

    def _relative(self, url: str) -> str:
        """A part's URL relative to the Web API root, whichever of the documented forms it takes."""
        if url.startswith(self.api.root):
            return url[len(self.api.root) :]
        marker = url.find(API_PATH)
        if marker >= 0 and (url.startswith(API_PATH) or "://" in url[:marker]):
            return url[marker + len(API_PATH) :]
        return url


def _http_part(reply: ApiReply, content_id: str | None) -> bytes:
    """One answer as an ``application/http`` part: status line, headers, blank line, body."""
    head = ["Content-Type: application/http", "Content-Transfer-Encoding: binary"]
    if content_id:
        head.append(f"Content-ID: {content_id}")
    lines = [f"HTTP/1.1 {reply.status} {_reason(reply.status)}"]
    headers = dict(reply.headers)
    if "OData-EntityId" in headers and reply.status in (201, 204):
        headers.setdefault("Location", headers["OData-EntityId"])
    lines.extend(f"{name}: {value}" for name, value in headers.items())
    text = "\r\n".join(head) + "\r\n\r\n" + "\r\n".join(lines) + "\r\n\r\n"
    return text.encode("latin-1") + reply.body + b"\r\n"


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"
