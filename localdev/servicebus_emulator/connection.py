"""One client connection: the AMQP 1.0 handshake, sessions and links, turned into broker calls.

The client is the official ``azure-servicebus`` SDK. What it needs, beyond
plain AMQP 1.0, is Service Bus's habits: plain TCP (with
``UseDevelopmentEmulator=true`` the Python SDK skips SASL; a client that asks
for it is offered ANONYMOUS); the attach echoing its source and target; settled
dispositions that echo the outcome it asked for (``rejected`` with an error
only when settling failed, e.g. a lost lock); a lock token that is the delivery
tag read as a little-endian UUID; and request/response nodes for ``$cbs`` and
``$management``. ``SERVICEBUS-NOTES.md`` in the shared notes lists them.

Flow control is kept simple on purpose: the emulator grants client senders
plenty of credit and a wide session window, and honours the credit client
receivers grant it, which is what decides how many messages get locked.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import struct
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from azure.servicebus._pyamqp.endpoints import Source, Target
from azure.servicebus._pyamqp.error import AMQPError
from azure.servicebus._pyamqp.outcomes import Accepted, Modified, Rejected, Released

from localdev.servicebus_emulator import management, wire
from localdev.servicebus_emulator.broker import Broker, LockLostError, UnknownEntityError
from localdev.servicebus_emulator.config import MessagingEntity
from localdev.servicebus_emulator.messages import MessageFormatError, unpack_batch

_LOG = logging.getLogger(__name__)

MAX_FRAME_SIZE = 64 * 1024
MAX_MESSAGE_SIZE = 256 * 1024  # Service Bus Standard's limit, so batches are sized as in Azure
_WINDOW = 2**31 - 1
_SENDER_CREDIT = 1000
_SENDER = False  # AMQP role values
_RECEIVER = True
_SETTLED = 1  # sender-settle-mode "settled": the client asked for receive-and-delete
_LOCK_LOST = b"com.microsoft:message-lock-lost"
_HEARTBEAT = struct.pack(">IBBH", 8, 2, 0, 0)


class _ProtocolError(Exception):
    """The peer broke the protocol; the connection is closed with this condition."""

    def __init__(self, condition: bytes, description: str) -> None:
        super().__init__(description)
        self.condition = condition


@dataclass(eq=False)
class _Link:
    session: _Session
    name: str
    handle: int
    address: str
    credit: int = 0
    delivery_count: int = 0


@dataclass(eq=False)
class _DeliveryLink(_Link):
    """A client's receiver on a queue, subscription or dead-letter sub-queue: the broker delivers on it."""

    entity: MessagingEntity = field(kw_only=True)
    receive_and_delete: bool = field(default=False, kw_only=True)

    def deliver(self, payload: bytes, lock_token: uuid.UUID) -> None:
        self.credit -= 1
        self.delivery_count += 1
        settled = self.receive_and_delete
        self.session.transfer(self, payload, lock_token.bytes_le, settled, lock_token=lock_token)


@dataclass(eq=False)
class _ReplyLink(_Link):
    """A client's receiver on a request/response node: answers to its requests come back on it."""

    def reply(self, response: bytes) -> None:
        self.credit -= 1
        self.delivery_count += 1
        self.session.transfer(self, response, struct.pack(">I", self.delivery_count), settled=True)


@dataclass(eq=False)
class _IncomingLink(_Link):
    """A client's sender, to a queue or topic or to a request/response node."""

    incoming: bytearray = field(default_factory=bytearray)
    incoming_id: int | None = None
    incoming_format: int = 0
    incoming_settled: bool = False


class _Session:
    def __init__(self, connection: AmqpConnection, channel: int, next_incoming_id: int) -> None:
        self.connection = connection
        self.channel = channel
        self.next_incoming_id = next_incoming_id
        self.next_outgoing_id = 0
        self.links: dict[int, _Link] = {}
        self.unsettled: dict[int, uuid.UUID] = {}  # delivery id -> lock token, for peek-lock deliveries

    def transfer(
        self, link: _Link, payload: bytes, tag: bytes, settled: bool, lock_token: uuid.UUID | None = None
    ) -> None:
        delivery_id = self.next_outgoing_id
        self.next_outgoing_id += 1
        if lock_token is not None and not settled:
            self.unsettled[delivery_id] = lock_token
        self.connection.send_transfer(
            self.channel, _Delivery(link.handle, delivery_id, tag, settled), payload
        )

    def flow(self, link: _Link, credit: int, delivery_count: int, drain: bool = False) -> None:
        self.connection.send(
            self.channel,
            wire.Flow(
                next_incoming_id=self.next_incoming_id,
                incoming_window=_WINDOW,
                next_outgoing_id=self.next_outgoing_id,
                outgoing_window=_WINDOW,
                handle=link.handle,
                delivery_count=delivery_count,
                link_credit=credit,
                available=None,
                drain=drain,
                echo=False,
                properties=None,
            ),
        )

    def reply_link(self, node: str) -> _ReplyLink | None:
        replies = (link for link in self.links.values() if isinstance(link, _ReplyLink))
        return next((link for link in replies if link.address.lower() == node.lower()), None)


class AmqpConnection:
    """Serves one TCP connection until the client closes it or the emulator shuts down."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, broker: Broker) -> None:
        self._reader = reader
        self._writer = writer
        self._broker = broker
        self._sessions: dict[int, _Session] = {}
        self._peer_max_frame_size = 512
        self._heartbeat: asyncio.Task[None] | None = None
        self._closed = False

    async def serve(self) -> None:
        try:
            if await self._handshake():
                while not self._closed:
                    frame = await self._read_frame()
                    if frame is not None:
                        self._handle(frame)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass  # the client went away; its locks simply expire
        except _ProtocolError as error:
            self.close(AMQPError(condition=error.condition, description=str(error)))
        except Exception:  # noqa: BLE001 - one bad frame must not take the emulator down with it
            _LOG.exception("closing a connection after an unexpected error")
            failed = "The emulator failed; see its log."
            self.close(AMQPError(condition=b"amqp:internal-error", description=failed))
        finally:
            self._release()

    def close(self, error: Any = None) -> None:
        """Say goodbye (with an error, if any) and drop the connection."""
        if not self._closed:
            self.send(0, wire.Close(error=error))
            self._closed = True
        self._writer.close()

    def send(self, channel: int, performative: Any, frame_type: bytes = wire.AMQP_FRAME) -> None:
        if not self._writer.is_closing():
            self._writer.write(wire.encode(channel, performative, frame_type))

    def send_transfer(self, channel: int, delivery: _Delivery, payload: bytes) -> None:
        """Send a message, split over several frames when the client's frame size requires it."""
        room = self._peer_max_frame_size - len(wire.encode(channel, delivery.frame(b"", more=True)))
        chunks = [payload[start : start + room] for start in range(0, len(payload), room)] or [b""]
        for index, chunk in enumerate(chunks):
            self.send(channel, delivery.frame(chunk, more=index < len(chunks) - 1))

    async def _handshake(self) -> bool:
        """Protocol headers, SASL ANONYMOUS (any mechanism is accepted), then the AMQP header exchange."""
        header = await self._reader.readexactly(8)
        if header == wire.SASL_HEADER:
            self._writer.write(wire.SASL_HEADER)
            self.send(0, wire.SaslMechanisms(sasl_server_mechanisms=[b"ANONYMOUS"]), wire.SASL_FRAME)
            init = await self._read_frame()
            if init is None or init.code != wire.SASL_INIT:
                raise _ProtocolError(b"amqp:not-allowed", "expected sasl-init")
            self.send(0, wire.SaslOutcome(code=0, additional_data=None), wire.SASL_FRAME)
            header = await self._reader.readexactly(8)
        self._writer.write(wire.AMQP_HEADER)
        if header != wire.AMQP_HEADER:
            self._writer.close()
            return False
        return True

    async def _read_frame(self) -> wire.Frame | None:
        header = await self._reader.readexactly(wire.FRAME_HEADER_SIZE)
        size = wire.frame_size(header)
        if not wire.FRAME_HEADER_SIZE <= size <= MAX_FRAME_SIZE:
            raise _ProtocolError(b"amqp:connection:framing-error", f"frame size {size} is out of range")
        body = await self._reader.readexactly(size - wire.FRAME_HEADER_SIZE)
        return wire.decode(header, body)

    def _handle(self, frame: wire.Frame) -> None:
        handlers = {
            wire.OPEN: self._on_open,
            wire.BEGIN: self._on_begin,
            wire.ATTACH: self._on_attach,
            wire.FLOW: self._on_flow,
            wire.TRANSFER: self._on_transfer,
            wire.DISPOSITION: self._on_disposition,
            wire.DETACH: self._on_detach,
            wire.END: self._on_end,
            wire.CLOSE: self._on_close,
        }
        handler = handlers.get(frame.code)
        if handler is None:
            raise _ProtocolError(b"amqp:not-implemented", f"unexpected performative 0x{frame.code:x}")
        handler(frame.channel, frame.fields)

    def _on_open(self, _channel: int, fields: list[Any]) -> None:
        self._peer_max_frame_size = min(int(fields[2]), 2**31)
        self.send(
            0,
            wire.Open(
                container_id="servicebus-emulator",
                hostname=None,
                max_frame_size=MAX_FRAME_SIZE,
                channel_max=65535,
                idle_timeout=None,
                outgoing_locales=None,
                incoming_locales=None,
                offered_capabilities=None,
                desired_capabilities=None,
                properties=None,
            ),
        )
        if fields[4]:  # the client closes an idle connection: keep it busy at half its timeout
            self._heartbeat = asyncio.create_task(self._beat(int(fields[4]) / 2000))

    async def _beat(self, every_seconds: float) -> None:
        while not self._writer.is_closing():
            await asyncio.sleep(every_seconds)
            self._writer.write(_HEARTBEAT)

    def _on_begin(self, channel: int, fields: list[Any]) -> None:
        self._sessions[channel] = _Session(self, channel, int(fields[1]))
        self.send(
            channel,
            wire.Begin(
                remote_channel=channel,
                next_outgoing_id=0,
                incoming_window=_WINDOW,
                outgoing_window=_WINDOW,
                handle_max=fields[4],
                offered_capabilities=None,
                desired_capabilities=None,
                properties=None,
            ),
        )

    def _on_attach(self, channel: int, fields: list[Any]) -> None:
        session = self._session(channel)
        name, handle, client_is_receiver = _text(fields[0]), int(fields[1]), bool(fields[2])
        source, target = fields[5], fields[6]
        address = _address(source if client_is_receiver else target)
        link, refusal = self._link(session, fields, address)
        if refusal is not None:  # as Service Bus refuses: no terminus for the missing entity, then a detach
            source, target = (None, target) if client_is_receiver else (source, None)
        self.send(
            channel,
            wire.Attach(
                name=name,
                handle=handle,
                role=not client_is_receiver,
                send_settle_mode=fields[3],
                rcv_settle_mode=fields[4],
                source=_echo(Source, source),
                target=_echo(Target, target),
                unsettled=None,
                incomplete_unsettled=False,
                initial_delivery_count=0 if client_is_receiver else None,
                max_message_size=MAX_MESSAGE_SIZE,
                offered_capabilities=None,
                desired_capabilities=None,
                properties=None,
            ),
        )
        if refusal is not None:
            error = AMQPError(condition=b"amqp:not-found", description=refusal)
            self.send(channel, wire.Detach(handle=handle, closed=True, error=error))
            return
        session.links[handle] = link
        if isinstance(link, _IncomingLink):
            link.credit = _SENDER_CREDIT
            session.flow(link, link.credit, link.delivery_count)
        elif isinstance(link, _DeliveryLink):
            self._broker.attach(link)

    def _link(self, session: _Session, fields: list[Any], address: str) -> tuple[_Link, str | None]:
        """The link a client's attach asks for, and why it must be refused (None: it need not be)."""
        name, handle, client_is_receiver = _text(fields[0]), int(fields[1]), bool(fields[2])
        namespace = self._broker.namespace
        not_found = f"The messaging entity '{address}' could not be found."
        if management.is_node(address):
            node_entity = management.node_entity(address)
            known = node_entity is None or bool(
                namespace.entity(node_entity) or namespace.destination(node_entity)
            )
            refusal = None if known else not_found
            if client_is_receiver:
                return _ReplyLink(session, name, handle, address), refusal
            return _IncomingLink(session, name, handle, address), refusal
        if client_is_receiver:
            entity = namespace.entity(address)
            if entity is None:
                return _ReplyLink(session, name, handle, address), not_found
            receive_and_delete = fields[3] == _SETTLED
            delivery_link = _DeliveryLink(
                session, name, handle, address, entity=entity, receive_and_delete=receive_and_delete
            )
            return delivery_link, None
        link = _IncomingLink(session, name, handle, address, delivery_count=int(fields[9] or 0))
        return link, None if namespace.destination(address) is not None else not_found

    def _on_flow(self, channel: int, fields: list[Any]) -> None:
        session = self._session(channel)
        session.next_incoming_id = int(fields[2])
        link = session.links.get(fields[4]) if fields[4] is not None else None
        if isinstance(link, _DeliveryLink | _ReplyLink) and fields[6] is not None:
            their_count = fields[5] if fields[5] is not None else 0
            link.credit = max(0, int(their_count) + int(fields[6]) - link.delivery_count)
            if isinstance(link, _DeliveryLink):
                self._broker.credit_granted(link)
            if fields[8] and link.credit > 0:  # drain: use up the credit there are no messages for
                link.delivery_count += link.credit
                link.credit = 0
            if fields[8] or fields[9]:
                session.flow(link, link.credit, link.delivery_count, drain=bool(fields[8]))
        elif link is not None and fields[9]:
            session.flow(link, link.credit, link.delivery_count)

    def _on_transfer(self, channel: int, fields: list[Any]) -> None:
        session = self._session(channel)
        link = session.links.get(int(fields[0]))
        if not isinstance(link, _IncomingLink):
            raise _ProtocolError(b"amqp:session:unattached-handle", f"no sender link has handle {fields[0]}")
        if fields[1] is not None and link.incoming_id is None:
            link.incoming_id = int(fields[1])
            link.incoming_format = int(fields[3] or 0)
            link.incoming_settled = bool(fields[4])
            session.next_incoming_id = link.incoming_id + 1
        link.incoming.extend(bytes(fields[11]))
        if fields[5]:  # more frames of this message follow
            return
        delivery_id, payload = link.incoming_id, bytes(link.incoming)
        message_format, settled = link.incoming_format, link.incoming_settled
        link.incoming_id, link.incoming = None, bytearray()
        if fields[9] or delivery_id is None:  # aborted: the client gave up on this message
            return
        link.delivery_count += 1
        link.credit -= 1
        if link.credit <= _SENDER_CREDIT // 2:
            link.credit = _SENDER_CREDIT
            session.flow(link, link.credit, link.delivery_count)
        if management.is_node(link.address):
            self._on_request(session, link.address, delivery_id, settled, payload)
            return
        outcome = self._accept(link.address, payload, message_format)
        if not settled:
            self.send(channel, _disposition(_RECEIVER, delivery_id, outcome))

    def _accept(self, address: str, payload: bytes, message_format: int) -> Any:
        try:
            self._broker.enqueue(address, unpack_batch(payload, message_format))
        except MessageFormatError as error:
            return Rejected(error=AMQPError(condition=b"amqp:decode-error", description=str(error)))
        except UnknownEntityError as error:
            return Rejected(error=AMQPError(condition=b"amqp:not-found", description=str(error)))
        return Accepted()

    def _on_request(
        self, session: _Session, node: str, delivery_id: int, settled: bool, request: bytes
    ) -> None:
        if not settled:
            self.send(session.channel, _disposition(_RECEIVER, delivery_id, Accepted()))
        reply_link = session.reply_link(node)
        if reply_link is None:
            _LOG.warning("a request to %s came without a link to answer on; it is dropped", node)
            return
        reply_link.reply(management.answer(self._broker, node, request))

    def _on_disposition(self, channel: int, fields: list[Any]) -> None:
        session = self._session(channel)
        if fields[0] != _RECEIVER:
            return  # the client settling a message it sent: nothing to do, it was already accepted
        first = int(fields[1])
        last = int(fields[2]) if fields[2] is not None else first
        for delivery_id in range(first, last + 1):
            lock_token = session.unsettled.pop(delivery_id, None)
            if lock_token is None:
                continue
            outcome = self._settle(lock_token, fields[4] or {})
            if not fields[3]:
                self.send(channel, _disposition(_SENDER, delivery_id, outcome))

    def _settle(self, lock_token: uuid.UUID, state: dict[str, Any]) -> Any:
        """Apply the outcome the client asked for and return the outcome to echo back."""
        try:
            if "accepted" in state:
                self._broker.complete(lock_token)
                return Accepted()
            if "released" in state:
                self._broker.release(lock_token)
                return Released()
            if "rejected" in state:
                info = _rejection_info(state["rejected"])
                reason, description = info.get("DeadLetterReason"), info.get("DeadLetterErrorDescription")
                self._broker.dead_letter(lock_token, reason, description)
                return Rejected(error=None)
            if "modified" in state:
                failed, undeliverable_here = [*list(state["modified"] or []), None, None][:2]
                if undeliverable_here:  # a deferral
                    return _not_implemented("Deferral is not emulated.")
                self._broker.abandon(lock_token)
                return Modified(
                    delivery_failed=failed, undeliverable_here=undeliverable_here, message_annotations=None
                )
        except LockLostError as error:
            return Rejected(error=AMQPError(condition=_LOCK_LOST, description=str(error)))
        return _not_implemented(f"Unknown outcome {state!r}.")

    def _on_detach(self, channel: int, fields: list[Any]) -> None:
        session = self._session(channel)
        link = session.links.pop(int(fields[0]), None)
        if link is None:
            return  # the client answering a detach the emulator sent (a refused attach)
        if isinstance(link, _DeliveryLink):
            self._broker.detach(link)
        self.send(channel, wire.Detach(handle=link.handle, closed=bool(fields[1]), error=None))

    def _on_end(self, channel: int, _fields: list[Any]) -> None:
        session = self._sessions.pop(channel, None)
        if session is not None:
            self._forget(session)
        self.send(channel, wire.End(error=None))

    def _on_close(self, _channel: int, _fields: list[Any]) -> None:
        self.close()

    def _session(self, channel: int) -> _Session:
        session = self._sessions.get(channel)
        if session is None:
            raise _ProtocolError(b"amqp:connection:framing-error", f"no session on channel {channel}")
        return session

    def _forget(self, session: _Session) -> None:
        for link in session.links.values():
            if isinstance(link, _DeliveryLink):
                self._broker.detach(link)
        session.links.clear()

    def _release(self) -> None:
        for session in self._sessions.values():
            self._forget(session)
        self._sessions.clear()
        if self._heartbeat is not None:
            self._heartbeat.cancel()
        with contextlib.suppress(Exception):
            self._writer.close()


@dataclass(frozen=True)
class _Delivery:
    """What every transfer frame of one outgoing message repeats, as the SDK's own sender does."""

    handle: int
    delivery_id: int
    tag: bytes
    settled: bool

    def frame(self, payload: bytes, more: bool) -> Any:
        return wire.Transfer(
            handle=self.handle,
            delivery_id=self.delivery_id,
            delivery_tag=self.tag,
            message_format=0,
            settled=self.settled,
            more=more,
            rcv_settle_mode=None,
            state=None,
            resume=None,
            aborted=None,
            batchable=None,
            payload=payload,
        )


def _disposition(role: bool, delivery_id: int, outcome: Any) -> Any:
    return wire.Disposition(
        role=role, first=delivery_id, last=delivery_id, settled=True, state=outcome, batchable=None
    )


def _not_implemented(description: str) -> Any:
    return Rejected(error=AMQPError(condition=b"amqp:not-implemented", description=description))


def _address(terminus: Any) -> str:
    """The entity path a source or target names: Service Bus clients send full ``amqps://host/path`` URIs."""
    if not terminus or terminus[0] is None:
        return ""
    text = _text(terminus[0])
    if "://" in text:
        text = urlsplit(text).path
    return text.strip("/")


def _echo(kind: Any, terminus: Any) -> Any:
    """The client's own source or target, as Service Bus answers an attach (filters and outcomes left out)."""
    if not terminus:
        return None
    values = (list(terminus) + [None] * len(kind._fields))[: len(kind._fields)]
    echoed = dict(zip(kind._fields, values, strict=True))
    for unsupported in ("dynamic_node_properties", "filters", "default_outcome", "outcomes"):
        if unsupported in echoed:
            echoed[unsupported] = None
    return kind(**echoed)


def _rejection_info(rejected: Any) -> dict[str, str | None]:
    error = [*list(rejected or []), None][0]
    info = [*list(error or []), None, None, None][2] or {}
    return {_text(key): _text(value) if value is not None else None for key, value in dict(info).items()}


def _text(value: Any) -> str:
    return bytes(value).decode("utf-8") if isinstance(value, bytes | bytearray | memoryview) else str(value)
