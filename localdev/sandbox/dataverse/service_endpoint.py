"""The sandbox's Azure integration: registered steps post each committed Create / Update to Service Bus.

In Dataverse an admin registers a Service Endpoint (a Service Bus queue,
message format JSON) and asynchronous steps on it; after a write commits, the
asynchronous service posts the step's ``RemoteExecutionContext`` to the queue.
The sandbox does the same for the steps in its registration (``steps.json``
shape: ``{"steps": [{"entity": "bs_emailgenerationprocess", "message":
"Create", "queue": "dataverse-events", "post_image": true}]}``), started
with ``--steps`` and ``--service-bus-connection`` (the emulator's connection
string) or set at run time with ``POST /sandbox/steps`` (``{"connection_string":
..., "steps": [...]}``; a reset goes back to the start registration). No
steps, or no connection string, and nothing is posted.

The body is the context as DataContractJsonSerializer writes it, in the
shape of Microsoft's samples: dictionaries as ``{"key", "value"}`` lists, the
``Target`` entity with the columns the write set (a Create: all of them), a
post image ``PostImage`` of the whole row when the step asks for one, dates as
``/Date(ms)/``, and the message properties Dataverse sets
(``http://schemas.microsoft.com/xrm/2011/Claims/Organization``,
``EntityLogicalName``, ``RequestName``, ``User``, ``InitiatingUser``). The
tables declare no column types, so two of Dataverse's typed values are told by
their shape: a lookup ``_x_value`` is an ``EntityReference`` named ``x`` (to
the table ``x`` less a trailing ``fk``, Towne Park's naming), and a whole
number of nine digits or more is a choice (``OptionSetValue``: custom choice
values start at the publisher's prefix times 10,000).

Posting happens on a worker thread, as Dataverse's asynchronous service does
it after the request has been answered; a post that fails is logged and
dropped (the hub's sweep is the net for events that never came).
"""

from __future__ import annotations

import json
import logging
import queue
import re
import threading
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from azure.servicebus import ServiceBusClient, ServiceBusMessage, ServiceBusSender

from localdev.sandbox.dataverse.schema import Table
from localdev.sandbox.dataverse.store import StoredRow

log = logging.getLogger(__name__)

DEFAULT_STEPS = Path(__file__).with_name("steps.json")
CONTRACTS = "http://schemas.microsoft.com/xrm/2011/Contracts"
CLAIMS = "http://schemas.microsoft.com/xrm/2011/Claims/"
Message = Literal["Create", "Update"]
_LOOKUP = re.compile(r"^_(?P<name>.+)_value$")
_SYSTEM_DATES = frozenset({"createdon", "modifiedon"})
_FIRST_CHOICE_VALUE = 100_000_000
_ASYNCHRONOUS_MODE = 1
_POST_OPERATION_STAGE = 40


@dataclass(frozen=True)
class StepRegistration:
    """One asynchronous step: a table's message, posted to a queue, with or without a post image."""

    entity: str
    message: Message
    queue: str
    post_image: bool = True

    @property
    def step_id(self) -> str:
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"step/{self.entity}/{self.message}/{self.queue}"))


def parse_steps(document: Any) -> list[StepRegistration]:
    """Steps from ``{"steps": [...]}``; raises ``ValueError`` naming what is wrong."""
    entries = document.get("steps", []) if isinstance(document, dict) else None
    if not isinstance(entries, list):
        raise ValueError("'steps' must be a list")
    steps = []
    for entry in entries:
        if not isinstance(entry, dict) or entry.get("message") not in ("Create", "Update"):
            raise ValueError(f"a step needs entity, message (Create or Update) and queue: {entry!r}")
        entity, target = entry.get("entity"), entry.get("queue")
        if not isinstance(entity, str) or not entity or not isinstance(target, str) or not target:
            raise ValueError(f"a step needs entity, message (Create or Update) and queue: {entry!r}")
        steps.append(StepRegistration(entity, entry["message"], target, bool(entry.get("post_image", True))))
    return steps


def load_steps(path: Path) -> list[StepRegistration]:
    try:
        return parse_steps(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError) as error:
        raise ValueError(f"steps in {path} are not usable: {error}") from None


@dataclass(frozen=True)
class Registration:
    connection_string: str | None
    steps: tuple[StepRegistration, ...]

    def as_json(self) -> dict[str, Any]:
        return {
            "connected": self.connection_string is not None,
            "steps": [
                {"entity": s.entity, "message": s.message, "queue": s.queue, "post_image": s.post_image}
                for s in self.steps
            ],
        }


@dataclass(frozen=True)
class _Post:
    connection_string: str
    queue: str
    message: ServiceBusMessage


class ServiceEndpoint:
    """The registered steps of one environment, and the worker that posts their contexts."""

    def __init__(
        self, org_url: str, connection_string: str | None, steps: Sequence[StepRegistration]
    ) -> None:
        self._started = Registration(connection_string, tuple(steps))
        self.registration = self._started
        self._org_url = org_url
        self._organization_id = str(uuid.uuid5(uuid.NAMESPACE_URL, org_url))
        self._user_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{org_url}/application-user"))
        self._posts: queue.Queue[_Post] = queue.Queue()
        self._worker: threading.Thread | None = None
        self._lock = threading.Lock()

    def register(self, connection_string: str | None, steps: Sequence[StepRegistration]) -> None:
        self.registration = Registration(connection_string, tuple(steps))

    def reset(self) -> None:
        self.registration = self._started

    def written(self, table: Table, row: StoredRow, message: Message, target: Mapping[str, Any]) -> None:
        """A write committed: queue a post for each step registered on the table's message."""
        registration = self.registration
        if registration.connection_string is None:
            return
        for step in registration.steps:
            if step.entity != table.logical_name or step.message != message:
                continue
            context = self.context(table, row, step, target)
            self._post(_Post(registration.connection_string, step.queue, self._message(context, step)))

    def context(
        self, table: Table, row: StoredRow, step: StepRegistration, target: Mapping[str, Any]
    ) -> dict[str, Any]:
        """The step's ``RemoteExecutionContext``, as DataContract JSON."""
        correlation = str(uuid.uuid4())
        now = datetime.now(UTC)
        image = _entity(table, row.id, row.data, row.version)
        return {
            "BusinessUnitId": self._organization_id,
            "CorrelationId": correlation,
            "Depth": 1,
            "InitiatingUserAgent": "sandbox Web API",
            "InitiatingUserAzureActiveDirectoryObjectId": "00000000-0000-0000-0000-000000000000",
            "InitiatingUserId": self._user_id,
            "InputParameters": [
                {"key": "Target", "value": _entity(table, row.id, {**target, table.primary_id: row.id}, None)}
            ],
            "IsExecutingOffline": False,
            "IsInTransaction": False,
            "IsOfflinePlayback": False,
            "IsolationMode": 1,
            "MessageName": step.message,
            "Mode": _ASYNCHRONOUS_MODE,
            "OperationCreatedOn": _date(now),
            "OperationId": str(uuid.uuid4()),
            "OrganizationId": self._organization_id,
            "OrganizationName": self._org_url,
            "OutputParameters": [{"key": "id", "value": row.id}] if step.message == "Create" else [],
            "OwningExtension": {
                "Id": step.step_id,
                "KeyAttributes": [],
                "LogicalName": "sdkmessageprocessingstep",
                "Name": None,
                "RowVersion": None,
            },
            "ParentContext": None,
            "PostEntityImages": [{"key": "PostImage", "value": image}] if step.post_image else [],
            "PreEntityImages": [],
            "PrimaryEntityId": row.id,
            "PrimaryEntityName": table.logical_name,
            "RequestId": str(uuid.uuid4()),
            "SecondaryEntityName": "none",
            "SharedVariables": [],
            "Stage": _POST_OPERATION_STAGE,
            "UserAzureActiveDirectoryObjectId": "00000000-0000-0000-0000-000000000000",
            "UserId": self._user_id,
        }

    def _message(self, context: dict[str, Any], step: StepRegistration) -> ServiceBusMessage:
        return ServiceBusMessage(
            json.dumps(context),
            content_type="application/json",
            message_id=str(context["OperationId"]),
            application_properties={
                CLAIMS + "Organization": self._org_url,
                CLAIMS + "EntityLogicalName": step.entity,
                CLAIMS + "RequestName": step.message,
                CLAIMS + "User": self._user_id,
                CLAIMS + "InitiatingUser": self._user_id,
            },
        )

    def _post(self, post: _Post) -> None:
        with self._lock:
            if self._worker is None:
                self._worker = threading.Thread(
                    target=self._send_forever, name="service-endpoint", daemon=True
                )
                self._worker.start()
        self._posts.put(post)

    def _send_forever(self) -> None:
        """Post each queued context in order; a sender is kept per connection and queue, as links cost a trip."""
        senders: dict[tuple[str, str], tuple[ServiceBusClient, ServiceBusSender]] = {}
        while True:
            post = self._posts.get()
            link = (post.connection_string, post.queue)
            try:
                if link not in senders:
                    client = ServiceBusClient.from_connection_string(post.connection_string)
                    senders[link] = (client, client.get_queue_sender(post.queue))
                senders[link][1].send_messages(post.message)
            except Exception:  # one lost event must not stop the ones after it
                log.exception("service endpoint: could not post an event to %s", post.queue)
                broken = senders.pop(link, None)
                if broken is not None:
                    broken[0].close()


def _entity(table: Table, row_id: str, values: Mapping[str, Any], version: int | None) -> dict[str, Any]:
    return {
        "__type": f"Entity:{CONTRACTS}",
        "Attributes": [{"key": name, "value": value} for name, value in _attributes(values)],
        "EntityState": None,
        "FormattedValues": [],
        "Id": row_id,
        "KeyAttributes": [],
        "LogicalName": table.logical_name,
        "RelatedEntities": [],
        "RowVersion": None if version is None else str(version),
    }


def _attributes(values: Mapping[str, Any]) -> list[tuple[str, Any]]:
    typed: list[tuple[str, Any]] = []
    for name, value in values.items():
        if name == "versionnumber":
            continue
        lookup = _LOOKUP.match(name)
        if lookup is not None:
            attribute = lookup.group("name")
            typed.append((attribute, _reference(attribute, value)))
        elif name in _SYSTEM_DATES and isinstance(value, str):
            typed.append((name, _date(datetime.fromisoformat(value))))
        elif isinstance(value, int) and not isinstance(value, bool) and value >= _FIRST_CHOICE_VALUE:
            typed.append((name, {"__type": f"OptionSetValue:{CONTRACTS}", "Value": value}))
        else:
            typed.append((name, value))
    return typed


def _reference(attribute: str, row_id: Any) -> dict[str, Any] | None:
    if row_id is None:
        return None
    return {
        "__type": f"EntityReference:{CONTRACTS}",
        "Id": str(row_id),
        "KeyAttributes": [],
        "LogicalName": attribute.removesuffix("fk"),
        "Name": None,
        "RowVersion": None,
    }


def _date(moment: datetime) -> str:
    return f"/Date({int(moment.timestamp() * 1000)})/"
