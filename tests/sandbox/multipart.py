"""``$batch`` bodies written like Microsoft's examples, and answers read with the stdlib MIME parser.

Reading answers with ``email`` rather than the hub's own batch parser means the
sandbox's multipart output is checked against an independent implementation.
"""

from __future__ import annotations

import email
import email.policy
import json
from dataclasses import dataclass
from typing import Any

import httpx


@dataclass(frozen=True)
class Op:
    """One request in a batch: ``url`` as it goes on the request line."""

    method: str
    url: str
    body: dict[str, Any] | None = None
    headers: tuple[tuple[str, str], ...] = ()
    content_id: str | None = None


@dataclass(frozen=True)
class ChangeSet:
    ops: tuple[Op, ...]


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: str
    content_id: str | None

    def json(self) -> Any:
        return json.loads(self.body)


def _op_text(op: Op) -> str:
    lines = ["Content-Type: application/http", "Content-Transfer-Encoding: binary"]
    if op.content_id:
        lines.append(f"Content-ID: {op.content_id}")
    lines += ["", f"{op.method} {op.url} HTTP/1.1"]
    if op.body is not None:
        lines.append("Content-Type: application/json; type=entry")
    lines += [f"{name}: {value}" for name, value in op.headers]
    lines.append("")
    if op.body is not None:
        lines.append(json.dumps(op.body))
    return "\r\n".join(lines) + "\r\n"


def batch_body(items: list[Op | ChangeSet], boundary: str = "batch_AAA123") -> tuple[str, bytes]:
    """``Content-Type`` and body of a ``POST $batch`` holding ``items`` in order."""
    chunks = []
    for number, item in enumerate(items):
        if isinstance(item, ChangeSet):
            inner = f"changeset_{number}"
            text = f"Content-Type: multipart/mixed; boundary={inner}\r\n\r\n"
            text += "".join(f"--{inner}\r\n{_op_text(op)}" for op in item.ops)
            text += f"--{inner}--\r\n"
            chunks.append(f"--{boundary}\r\n{text}")
        else:
            chunks.append(f"--{boundary}\r\n{_op_text(item)}")
    body = "".join(chunks) + f"--{boundary}--\r\n"
    return f'multipart/mixed; boundary="{boundary}"', body.encode()


def post_batch(
    client: httpx.Client, items: list[Op | ChangeSet], prefer: str | None = None
) -> httpx.Response:
    content_type, body = batch_body(items)
    headers = {"Content-Type": content_type}
    if prefer:
        headers["Prefer"] = prefer
    return client.post("$batch", content=body, headers=headers)


def read_batch(response: httpx.Response) -> list[list[Answer]]:
    """Each top-level part's answers: one for a request, several for a change set, in order."""
    document = f"Content-Type: {response.headers['content-type']}\r\n\r\n".encode() + response.content
    message = email.message_from_bytes(document, policy=email.policy.HTTP)
    assert message.is_multipart(), "a $batch answer is multipart/mixed"
    items = []
    for part in message.iter_parts():
        if part.is_multipart():
            items.append([_answer(inner) for inner in part.iter_parts()])
        else:
            items.append([_answer(part)])
    return items


def _answer(part: Any) -> Answer:
    assert part.get_content_type() == "application/http"
    assert part["Content-Transfer-Encoding"] == "binary"
    raw: bytes = part.get_payload(decode=True)
    head, _, body = raw.replace(b"\r\n", b"\n").partition(b"\n\n")
    status_line, *header_lines = head.decode().split("\n")
    protocol, status, _reason = status_line.split(" ", 2)
    assert protocol == "HTTP/1.1"
    headers = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return Answer(int(status), headers, body.decode().strip(), part["Content-ID"])
