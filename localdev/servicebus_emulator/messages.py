"""What the broker does to the bytes of a message: unpack batches, stamp deliveries, mark dead letters.

A message is stored exactly as its sender encoded it, so every property keeps
its AMQP type. On the way out the broker rewrites only its own sections: the
header (delivery count), the message annotations Service Bus adds
(``x-opt-sequence-number``, ``x-opt-enqueued-time``, ``x-opt-locked-until``)
and, for a dead letter, the ``DeadLetterReason`` / ``DeadLetterErrorDescription``
application properties. Map entries are copied as raw bytes rather than
decoded and re-encoded, because the SDK's decoder reads strings, symbols and
binary alike as ``bytes`` and re-encoding would lose which was which.

Uses the SDK's private codec (``azure.servicebus._pyamqp``), as ``wire`` does.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from azure.servicebus._pyamqp._decode import _DECODE_BY_CONSTRUCTOR
from azure.servicebus._pyamqp._encode import (
    describe_performative,
    encode_int,
    encode_long,
    encode_string,
    encode_symbol,
    encode_timestamp,
    encode_value,
)
from azure.servicebus._pyamqp.message import Header

BATCH_FORMAT = 0x80013700  # Service Bus's batch: a body of data sections, each one encoded message

_HEADER = 0x70
_DELIVERY_ANNOTATIONS = 0x71
_MESSAGE_ANNOTATIONS = 0x72
_PROPERTIES = 0x73
_APPLICATION_PROPERTIES = 0x74
_DATA = 0x75
_FOOTER = 0x78

SEQUENCE_NUMBER = b"x-opt-sequence-number"
ENQUEUED_TIME = b"x-opt-enqueued-time"
LOCKED_UNTIL = b"x-opt-locked-until"
MESSAGE_STATE = b"x-opt-message-state"
SCHEDULED_ENQUEUE_TIME = b"x-opt-scheduled-enqueue-time"
DEAD_LETTER_SOURCE = b"x-opt-deadletter-source"
DEAD_LETTER_REASON = b"DeadLetterReason"
DEAD_LETTER_DESCRIPTION = b"DeadLetterErrorDescription"

ACTIVE = 0
SCHEDULED = 2  # Service Bus's message states, as ServiceBusMessageState numbers them


class MessageFormatError(ValueError):
    """The bytes are not an AMQP message this broker can store."""


@dataclass(frozen=True)
class Section:
    """One section of an encoded message: its descriptor code, encoded value and decoded value."""

    code: int
    encoded_value: bytes
    value: Any

    def encoded(self) -> bytes:
        return b"\x00\x53" + bytes([self.code]) + self.encoded_value


def sections(message: bytes) -> list[Section]:
    """Split an encoded message into its sections, in order."""
    view = memoryview(message)
    found: list[Section] = []
    try:
        while view:
            if view[0] != 0x00:
                raise MessageFormatError("a message section must be a described type")
            after_descriptor, descriptor = _DECODE_BY_CONSTRUCTOR[view[1]](view[2:])
            rest, value = _DECODE_BY_CONSTRUCTOR[after_descriptor[0]](after_descriptor[1:])
            encoded_value = bytes(after_descriptor[: len(after_descriptor) - len(rest)])
            found.append(Section(int(descriptor), encoded_value, value))
            view = rest
    except MessageFormatError:
        raise
    except (TypeError, IndexError, ValueError, struct.error) as error:
        raise MessageFormatError(f"cannot read the message's sections: {error}") from error
    return found


def unpack_batch(payload: bytes, message_format: int) -> list[bytes]:
    """The messages in one transfer: the payload itself, or each data section of a batch."""
    if message_format != BATCH_FORMAT:
        return [payload]
    return [bytes(section.value) for section in sections(payload) if section.code == _DATA]


def scheduled_enqueue_time(message: bytes) -> float | None:
    """When the sender asked the message to appear (Unix seconds), if it did."""
    for section in sections(message):
        if section.code == _MESSAGE_ANNOTATIONS and isinstance(section.value, dict):
            milliseconds = section.value.get(SCHEDULED_ENQUEUE_TIME)
            if milliseconds is not None:
                return int(milliseconds) / 1000
    return None


def delivery(
    message: bytes,
    *,
    sequence_number: int,
    enqueued_at: float,
    prior_deliveries: int,
    locked_until: float | None = None,
    state: int = ACTIVE,
) -> bytes:
    """The message as a receiver or peeker sees it, with the broker's header and annotations."""
    stamps = [
        (SEQUENCE_NUMBER, _encoded(encode_long, sequence_number)),
        (ENQUEUED_TIME, _encoded(encode_timestamp, _milliseconds(enqueued_at))),
        (MESSAGE_STATE, _encoded(encode_int, state)),
    ]
    if locked_until is not None:
        stamps.append((LOCKED_UNTIL, _encoded(encode_timestamp, _milliseconds(locked_until))))
    parts = sections(message)
    rebuilt = [_header(parts, prior_deliveries)]
    rebuilt += [section for section in parts if section.code not in (_HEADER, _DELIVERY_ANNOTATIONS)]
    return _assemble(_with_entries(rebuilt, _MESSAGE_ANNOTATIONS, stamps))


def dead_lettered(message: bytes, *, reason: str | None, description: str | None, source: str) -> bytes:
    """The message as stored in a dead-letter sub-queue: why it is there, and where it came from."""
    properties = [
        (name, _encoded(encode_string, text))
        for name, text in ((DEAD_LETTER_REASON, reason), (DEAD_LETTER_DESCRIPTION, description))
        if text is not None
    ]
    parts = _with_entries(sections(message), _APPLICATION_PROPERTIES, properties, symbol_keys=False)
    source_entry = (DEAD_LETTER_SOURCE, _encoded(encode_string, source))
    parts = _with_entries(parts, _MESSAGE_ANNOTATIONS, [source_entry])
    return _assemble(parts)


def _header(parts: list[Section], prior_deliveries: int) -> Section:
    original = next((list(section.value or []) for section in parts if section.code == _HEADER), [])
    fields = (original + [None] * 5)[:5]
    header = Header(
        durable=fields[0],
        priority=fields[1],
        ttl=fields[2],
        first_acquirer=prior_deliveries == 0,
        delivery_count=prior_deliveries,
    )
    encoded = bytearray()
    encode_value(encoded, describe_performative(header))
    return sections(bytes(encoded))[0]


def _with_entries(
    parts: list[Section], code: int, entries: list[tuple[bytes, bytes]], symbol_keys: bool = True
) -> list[Section]:
    """Set map entries (name, encoded value) in the map section ``code``, adding the section if needed."""
    if not entries:
        return parts
    replaced = {name for name, _ in entries}
    kept: list[bytes] = []
    existing = next((section for section in parts if section.code == code), None)
    if existing is not None:
        kept = [pair for name, pair in _map_pairs(existing.encoded_value) if name not in replaced]
    encode_key = encode_symbol if symbol_keys else encode_string
    added = [_encoded(encode_key, name) + value for name, value in entries]
    section = Section(code, _map_value(kept + added), None)
    others = [part for part in parts if part.code != code]
    return sorted([*others, section], key=_position)


def _position(section: Section) -> int:
    """Sections' order in a message; body sections tie, so a stable sort keeps them as they were."""
    return _FOOTER if section.code == _FOOTER else min(section.code, _DATA)


def _map_pairs(encoded_map: bytes) -> Iterable[tuple[bytes, bytes]]:
    """Each (key, raw key+value bytes) of an encoded map, or nothing for a null map."""
    constructor = encoded_map[0]
    if constructor == 0x40:
        return
    start = 3 if constructor == 0xC1 else 9
    view = memoryview(encoded_map)[start:]
    while view:
        after_key, key = _DECODE_BY_CONSTRUCTOR[view[0]](view[1:])
        rest, _ = _DECODE_BY_CONSTRUCTOR[after_key[0]](after_key[1:])
        name = bytes(key) if isinstance(key, bytes | memoryview) else str(key).encode()  # ulong keys exist
        yield name, bytes(view[: len(view) - len(rest)])
        view = rest


def _map_value(pairs: list[bytes]) -> bytes:
    body = b"".join(pairs)
    return b"\xd1" + struct.pack(">II", len(body) + 4, len(pairs) * 2) + body


def _assemble(parts: list[Section]) -> bytes:
    return b"".join(section.encoded() for section in parts)


def _encoded(encoder: Any, value: Any) -> bytes:
    output = bytearray()
    encoder(output, value)
    return bytes(output)


def _milliseconds(seconds: float) -> int:
    return round(seconds * 1000)
