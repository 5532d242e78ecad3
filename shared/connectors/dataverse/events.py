"""A Dataverse event as its service endpoint posts it to Service Bus: the step's ``RemoteExecutionContext``.

An admin registers a *Service Endpoint* (contract Queue, message format JSON)
and asynchronous steps on it (Create / Update of a table); for each, Dataverse
puts the execution context on the queue, serialised by .NET's
DataContractJsonSerializer (learn.microsoft.com: "Work with Microsoft
Dataverse data in your Azure solution", "Write a listener application for an
Azure solution"; the JSON of a context is shown in Microsoft's webhook and
presence-sync samples). That serialiser writes dictionaries as lists of
``{"key": ..., "value": ...}``, typed values with a ``__type`` hint
(``Entity:``, ``EntityReference:``, ``OptionSetValue:``, ``Money:``
``http://schemas.microsoft.com/xrm/2011/Contracts``) and dates as
``/Date(<ms since 1970>[+hhmm])/``. The message also carries the application
properties ``http://schemas.microsoft.com/xrm/2011/Claims/Organization``,
``.../EntityLogicalName`` and ``.../RequestName``.

The hub reads only ``MessageName``, ``PrimaryEntityName``, ``PrimaryEntityId``,
``CorrelationId``, ``Depth``, ``OperationCreatedOn``, ``UserId`` and the
``Target`` entity's attributes (``PostEntityImages`` when the step registers
one); everything else is allowed and ignored. What a handler acts on it reads
back from Dataverse first: an event says *which row changed*, not what it is now.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

CLAIMS = "http://schemas.microsoft.com/xrm/2011/Claims/"
ORGANIZATION_PROPERTY = CLAIMS + "Organization"
ENTITY_PROPERTY = CLAIMS + "EntityLogicalName"
REQUEST_PROPERTY = CLAIMS + "RequestName"
USER_PROPERTY = CLAIMS + "User"
INITIATING_USER_PROPERTY = CLAIMS + "InitiatingUser"
CONTRACTS = "http://schemas.microsoft.com/xrm/2011/Contracts"
_DATE = re.compile(r"^/Date\((-?\d+)([+-]\d{4})?\)/$")


def parse_date(value: Any) -> datetime:
    """``/Date(1722582039000+0000)/`` → an aware UTC datetime (the offset says how it was shown, not when)."""
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    found = _DATE.match(str(value))
    if found is None:
        raise ValueError(f"not a DataContract JSON date: {value!r}")
    return datetime.fromtimestamp(int(found.group(1)) / 1000, UTC)


def plain(value: Any) -> Any:
    """A typed attribute value as the Web API would show it: an option's number, a reference's id."""
    if isinstance(value, dict):
        kind = str(value.get("__type", "")).split(":", 1)[0]
        if kind in ("OptionSetValue", "Money"):
            return value.get("Value")
        if kind == "EntityReference":
            return str(value.get("Id")) if value.get("Id") is not None else None
    return value


class KeyValue(BaseModel):
    """One entry of a DataContract dictionary (``InputParameters``, ``Attributes``, images)."""

    key: str
    value: Any = None


class EventEntity(BaseModel):
    """An ``Entity`` of the context: the step's ``Target`` or an image."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    logical_name: str = Field(alias="LogicalName")
    id: uuid.UUID | None = Field(None, alias="Id")
    attributes: list[KeyValue] = Field(default_factory=list, alias="Attributes")
    row_version: str | None = Field(None, alias="RowVersion")

    def get(self, name: str) -> Any:
        """The attribute ``name`` as a plain value (see ``plain``); None when the entity does not carry it."""
        for entry in self.attributes:
            if entry.key == name:
                return plain(entry.value)
        return None

    def has(self, name: str) -> bool:
        return any(entry.key == name for entry in self.attributes)


class EntityEntry(BaseModel):
    key: str
    value: EventEntity


class RemoteExecutionContext(BaseModel):
    """The fields of the context the hub reads; any others Dataverse sends are ignored."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    message_name: str = Field(alias="MessageName", min_length=1)
    primary_entity_name: str = Field(alias="PrimaryEntityName", min_length=1)
    primary_entity_id: uuid.UUID = Field(alias="PrimaryEntityId")
    correlation_id: uuid.UUID | None = Field(None, alias="CorrelationId")
    user_id: uuid.UUID | None = Field(None, alias="UserId")
    depth: int = Field(1, alias="Depth", ge=0)
    operation_created_on: datetime | None = Field(None, alias="OperationCreatedOn")
    input_parameters: list[KeyValue] = Field(default_factory=list, alias="InputParameters")
    post_entity_images: list[EntityEntry] = Field(default_factory=list, alias="PostEntityImages")

    @field_validator("operation_created_on", mode="before")
    @classmethod
    def _date(cls, value: Any) -> datetime | None:
        return None if value is None else parse_date(value)

    @property
    def target(self) -> EventEntity | None:
        """The ``Target`` entity of a Create or Update: the columns the write set."""
        for entry in self.input_parameters:
            if entry.key == "Target" and isinstance(entry.value, dict):
                return EventEntity.model_validate(entry.value)
        return None

    @property
    def post_image(self) -> EventEntity | None:
        """The step's first post image (the row after the write), when one is registered."""
        return self.post_entity_images[0].value if self.post_entity_images else None

    def value(self, name: str) -> Any:
        """``name`` as the write left it: from the post image if there is one, else from the Target."""
        for entity in (self.post_image, self.target):
            if entity is not None and entity.has(name):
                return entity.get(name)
        return None


def parse_event(body: bytes) -> RemoteExecutionContext:
    """The context in a message body (UTF-8 JSON, a BOM allowed); raises ``pydantic.ValidationError``."""
    return RemoteExecutionContext.model_validate_json(body.removeprefix(b"\xef\xbb\xbf"))
