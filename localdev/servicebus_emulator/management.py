"""The request/response nodes: ``$cbs`` (token put) and ``<entity>/$management`` (Service Bus operations).

Clients send a request message to the node and expect the answer, with
``correlation-id`` set to the request's ``message-id``, on their receive link
from the same node. ``$cbs`` answers in ``status-code`` / ``status-description``;
``$management`` in ``statusCode`` / ``statusDescription`` (and ``errorCondition``
on failure), as Service Bus does. Tokens are accepted unchecked: the emulator,
like Microsoft's, has no authorisation.

Operations: ``renew-lock``, ``peek-message``, ``schedule-message``,
``cancel-scheduled-message`` and ``update-disposition`` (the SDK's fallback
settlement path). Sessions, deferral and rules are not emulated and answer 501.

Uses the SDK's private codec (``azure.servicebus._pyamqp``), as ``wire`` does.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from azure.servicebus._pyamqp._decode import decode_payload
from azure.servicebus._pyamqp._encode import encode_payload
from azure.servicebus._pyamqp.message import Message, Properties
from azure.servicebus._pyamqp.types import TYPE, VALUE, AMQPTypes

from localdev.servicebus_emulator.broker import Broker, LockLostError, UnknownEntityError
from localdev.servicebus_emulator.messages import MessageFormatError

CBS_NODE = "$cbs"
MANAGEMENT_SUFFIX = "/$management"
_OPERATION = b"operation"
_VENDOR = "com.microsoft:"
_LOCK_LOST = b"com.microsoft:message-lock-lost"
_NOT_FOUND = b"com.microsoft:entity-not-found"
_ARGUMENT_ERROR = b"com.microsoft:argument-error"
_NOT_IMPLEMENTED = b"amqp:not-implemented"


@dataclass(frozen=True)
class Reply:
    """A management answer: HTTP-like status, and a body or an error condition."""

    status_code: int
    description: str
    body: Any = None
    error_condition: bytes | None = None


class _FailedError(Exception):
    def __init__(self, reply: Reply) -> None:
        super().__init__(reply.description)
        self.reply = reply


def is_node(address: str) -> bool:
    """Whether a link address names a request/response node rather than a queue, topic or subscription."""
    return address == CBS_NODE or address.lower().endswith(MANAGEMENT_SUFFIX)


def node_entity(address: str) -> str | None:
    """The entity a ``$management`` node belongs to; None for ``$cbs``."""
    return None if address == CBS_NODE else address[: -len(MANAGEMENT_SUFFIX)]


def answer(broker: Broker, node: str, request_bytes: bytes) -> bytes:
    """Handle one request sent to ``node`` and return the encoded response message."""
    request = decode_payload(memoryview(request_bytes))
    entity = node_entity(node)
    reply = Reply(202, "Accepted") if entity is None else _operate(broker, entity, request)
    return _response(request, reply, cbs=entity is None)


def _operate(broker: Broker, entity: str, request: Message) -> Reply:
    operation = bytes((request.application_properties or {}).get(_OPERATION) or b"").decode()
    handler = _OPERATIONS.get(operation.removeprefix(_VENDOR))
    if handler is None:
        unsupported = f"The emulator does not support the operation '{operation}'."
        return Reply(501, unsupported, None, _NOT_IMPLEMENTED)
    body = request.value if isinstance(request.value, dict) else {}
    try:
        return handler(broker, entity, body)
    except _FailedError as failure:
        return failure.reply
    except LockLostError as error:
        return Reply(410, str(error), None, _LOCK_LOST)
    except UnknownEntityError as error:
        return Reply(404, str(error), None, _NOT_FOUND)
    except (MessageFormatError, KeyError, TypeError, ValueError) as error:
        return Reply(400, f"The request is not valid: {error}", None, _ARGUMENT_ERROR)


def _renew_lock(broker: Broker, _entity: str, body: dict[bytes, Any]) -> Reply:
    expirations = [round(broker.renew_lock(_lock_token(token)) * 1000) for token in body[b"lock-tokens"]]
    return Reply(200, "OK", {"expirations": _array(AMQPTypes.timestamp, expirations)})


def _peek(broker: Broker, entity: str, body: dict[bytes, Any]) -> Reply:
    found = broker.peek(entity, int(body[b"from-sequence-number"]), int(body[b"message-count"]))
    if not found:
        return Reply(204, "No messages to peek.")
    return Reply(200, "OK", {"messages": [{"message": encoded} for encoded in found]})


def _schedule(broker: Broker, entity: str, body: dict[bytes, Any]) -> Reply:
    numbers = broker.enqueue(entity, [bytes(item[b"message"]) for item in body[b"messages"]])
    return Reply(200, "OK", {"sequence-numbers": _array(AMQPTypes.long, numbers)})


def _cancel_scheduled(broker: Broker, entity: str, body: dict[bytes, Any]) -> Reply:
    broker.cancel_scheduled(entity, [int(number) for number in body[b"sequence-numbers"]])
    return Reply(200, "OK")


def _update_disposition(broker: Broker, _entity: str, body: dict[bytes, Any]) -> Reply:
    status = bytes(body[b"disposition-status"]).decode()
    tokens = [_lock_token(token) for token in body[b"lock-tokens"]]
    for token in tokens:
        if status == "completed":
            broker.complete(token)
        elif status == "abandoned":
            broker.abandon(token)
        elif status == "suspended":
            reason, description = body.get(b"deadletter-reason"), body.get(b"deadletter-description")
            broker.dead_letter(token, _text(reason), _text(description))
        else:
            unsupported = f"The emulator does not support the disposition '{status}'."
            raise _FailedError(Reply(501, unsupported, None, _NOT_IMPLEMENTED))
    return Reply(200, "OK")


_OPERATIONS: dict[str, Callable[[Broker, str, dict[bytes, Any]], Reply]] = {
    "renew-lock": _renew_lock,
    "peek-message": _peek,
    "schedule-message": _schedule,
    "cancel-scheduled-message": _cancel_scheduled,
    "update-disposition": _update_disposition,
}


def _response(request: Message, reply: Reply, cbs: bool) -> bytes:
    code, description = ("status-code", "status-description") if cbs else ("statusCode", "statusDescription")
    properties: dict[str | bytes, Any] = {code: reply.status_code, description: reply.description}
    if reply.error_condition is not None:
        properties["errorCondition"] = {TYPE: AMQPTypes.symbol, VALUE: reply.error_condition}
    request_id: Any = request.properties.message_id if request.properties else None
    response = Message(
        properties=Properties(correlation_id=request_id),
        application_properties=properties,
        value=reply.body,
    )
    return bytes(encode_payload(bytearray(), response))


def _lock_token(value: Any) -> uuid.UUID:
    if isinstance(value, uuid.UUID):
        return value
    if isinstance(value, bytes) and len(value) == 16:
        return uuid.UUID(bytes=value)
    return uuid.UUID(bytes(value).decode() if isinstance(value, bytes) else str(value))


def _array(element_type: str, values: list[int]) -> dict[str, Any]:
    return {TYPE: AMQPTypes.array, VALUE: [{TYPE: element_type, VALUE: value} for value in values]}


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return bytes(value).decode() if isinstance(value, bytes) else str(value)
