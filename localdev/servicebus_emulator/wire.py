"""AMQP 1.0 frames on the wire, through the official SDK's own pure-Python codec.

The emulator encodes and decodes with ``azure.servicebus._pyamqp``: a private
module, but the SDK it ships in is pinned by the hub's requirements, and using
the very codec the client uses means the emulator cannot disagree with it about
the wire format. This module is the only place that imports it for framing, so
an SDK upgrade that moves it breaks here and nowhere else.
"""

from __future__ import annotations

import struct
from typing import Any, NamedTuple

from azure.servicebus._pyamqp import performatives
from azure.servicebus._pyamqp._decode import decode_frame
from azure.servicebus._pyamqp._encode import encode_frame

AMQP_HEADER = b"AMQP\x00\x01\x00\x00"
SASL_HEADER = b"AMQP\x03\x01\x00\x00"
FRAME_HEADER_SIZE = 8
AMQP_FRAME = b"\x00"
SASL_FRAME = b"\x01"

# Performative codes (AMQP 1.0 part 2.7 and 5.3).
OPEN = 0x10
BEGIN = 0x11
ATTACH = 0x12
FLOW = 0x13
TRANSFER = 0x14
DISPOSITION = 0x15
DETACH = 0x16
END = 0x17
CLOSE = 0x18
SASL_INIT = 0x41

Open = performatives.OpenFrame
Begin = performatives.BeginFrame
Attach = performatives.AttachFrame
Flow = performatives.FlowFrame
Transfer = performatives.TransferFrame
Disposition = performatives.DispositionFrame
Detach = performatives.DetachFrame
End = performatives.EndFrame
Close = performatives.CloseFrame
SaslMechanisms = performatives.SASLMechanism
SaslOutcome = performatives.SASLOutcome


class Frame(NamedTuple):
    """One decoded frame: channel, performative code and fields (a transfer's last field is its payload)."""

    channel: int
    code: int
    fields: list[Any]


def encode(channel: int, performative: Any, frame_type: bytes = AMQP_FRAME) -> bytes:
    """The bytes of one frame carrying ``performative`` on ``channel``."""
    header, body = encode_frame(performative, frame_type=frame_type)
    return header + struct.pack(">H", channel) + bytes(body or b"")


def frame_size(header: bytes) -> int:
    """The total size a frame header announces (header included)."""
    return int(struct.unpack(">I", header[:4])[0])


def decode(header: bytes, body: bytes) -> Frame | None:
    """Decode one frame; None for an empty (heartbeat) frame."""
    data_offset = header[4] * 4
    channel = int(struct.unpack(">H", header[6:8])[0])
    performative = body[data_offset - FRAME_HEADER_SIZE :]
    if not performative:
        return None
    code, fields = decode_frame(memoryview(performative))
    return Frame(channel, code, list(fields))
