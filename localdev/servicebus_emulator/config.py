"""The namespace's queues, topics and subscriptions, read from Microsoft's emulator ``Config.json`` format.

Using Microsoft's format means one file serves both emulators: a developer can
hand ``config.json`` to the Docker-based official emulator unchanged. Only the
properties that shape the hub's behaviour are honoured here (lock duration and
max delivery count); the rest are accepted so the file stays valid for both,
and a warning names any feature the file asks for that this emulator lacks.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

_LOG = logging.getLogger(__name__)

DEAD_LETTER_SUFFIX = "/$deadletterqueue"
_DEFAULT_LOCK = "PT1M"  # Microsoft's emulator and Service Bus both default to one minute
_DEFAULT_MAX_DELIVERY = 10  # Service Bus's default; the official emulator's schema says 3, files set it
_DURATION = re.compile(
    r"^P(?!$)(?:(?P<days>\d+)D)?(?:T(?=\d)(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+(?:\.\d+)?)S)?)?$"
)


class ConfigError(ValueError):
    """The config file cannot describe a namespace; the message says where and why."""


@dataclass(frozen=True)
class MessagingEntity:
    """Somewhere messages wait to be received: a queue, a subscription, or a dead-letter sub-queue."""

    path: str
    lock_seconds: float
    max_delivery_count: int | None  # None on dead-letter sub-queues: nothing is dead-lettered twice

    @property
    def dead_letter_path(self) -> str:
        return self.path + DEAD_LETTER_SUFFIX


@dataclass(frozen=True)
class Namespace:
    """Where a sender's address delivers to, and the entities receivers may attach to (by lowercase path)."""

    name: str
    receivable: dict[str, MessagingEntity]
    destinations: dict[str, tuple[str, ...]]  # queue or topic -> the entity paths that get a copy

    def entity(self, path: str) -> MessagingEntity | None:
        return self.receivable.get(path.lower())

    def destination(self, address: str) -> tuple[str, ...] | None:
        return self.destinations.get(address.lower())


class _Model(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="allow")


class _EntityProperties(_Model):
    lock_duration: str = Field(_DEFAULT_LOCK, alias="LockDuration")
    max_delivery_count: int = Field(_DEFAULT_MAX_DELIVERY, alias="MaxDeliveryCount", ge=1)
    requires_session: bool = Field(False, alias="RequiresSession")
    forward_to: str = Field("", alias="ForwardTo")
    forward_dead_lettered_messages_to: str = Field("", alias="ForwardDeadLetteredMessagesTo")


class _Subscription(_Model):
    name: str = Field(alias="Name", min_length=1)
    properties: _EntityProperties = Field(default_factory=_EntityProperties, alias="Properties")
    rules: list[dict[str, Any]] = Field(default_factory=list, alias="Rules")


class _Queue(_Model):
    name: str = Field(alias="Name", min_length=1)
    properties: _EntityProperties = Field(default_factory=_EntityProperties, alias="Properties")


class _Topic(_Model):
    name: str = Field(alias="Name", min_length=1)
    subscriptions: list[_Subscription] = Field(default_factory=list, alias="Subscriptions")


class _Namespace(_Model):
    name: str = Field(alias="Name", min_length=1)
    queues: list[_Queue] = Field(default_factory=list, alias="Queues")
    topics: list[_Topic] = Field(default_factory=list, alias="Topics")


class _UserConfig(_Model):
    namespaces: list[_Namespace] = Field(alias="Namespaces", min_length=1, max_length=1)


class _ConfigFile(_Model):
    user_config: _UserConfig = Field(alias="UserConfig")


def load_namespace(path: Path) -> Namespace:
    """Read ``path`` and return its one namespace, or raise ConfigError naming what is wrong."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        parsed = _ConfigFile.model_validate(raw)
    except (OSError, json.JSONDecodeError, ValidationError) as error:
        raise ConfigError(f"{path}: not a Service Bus emulator Config.json: {error}") from error
    return _namespace(parsed.user_config.namespaces[0], path)


def duration_seconds(text: str) -> float:
    """An ISO 8601 duration such as ``PT1M`` or ``PT2.5S`` in seconds (days and smaller units only)."""
    match = _DURATION.match(text)
    if match is None:
        raise ConfigError(f"{text!r} is not an ISO 8601 duration in days, hours, minutes or seconds")
    parts = {name: float(value) for name, value in match.groupdict().items() if value is not None}
    return (
        parts.get("days", 0) * 86400
        + parts.get("hours", 0) * 3600
        + parts.get("minutes", 0) * 60
        + parts.get("seconds", 0)
    )


def _namespace(model: _Namespace, path: Path) -> Namespace:
    receivable: dict[str, MessagingEntity] = {}
    destinations: dict[str, tuple[str, ...]] = {}
    for queue in model.queues:
        entity = _entity(queue.name, queue.properties, path)
        _add(receivable, entity, path)
        destinations[queue.name.lower()] = (entity.path,)
    for topic in model.topics:
        if topic.name.lower() in destinations:
            raise ConfigError(f"{path}: {topic.name!r} is declared twice")
        copies = []
        for subscription in topic.subscriptions:
            if subscription.rules:
                _LOG.warning("%s: rules are not applied; every message reaches %r", path, subscription.name)
            entity = _entity(f"{topic.name}/subscriptions/{subscription.name}", subscription.properties, path)
            _add(receivable, entity, path)
            copies.append(entity.path)
        destinations[topic.name.lower()] = tuple(copies)
    return Namespace(model.name, receivable, destinations)


def _entity(entity_path: str, properties: _EntityProperties, path: Path) -> MessagingEntity:
    if properties.requires_session:
        _LOG.warning("%s: sessions are not emulated; %r behaves as a session-less entity", path, entity_path)
    if properties.forward_to or properties.forward_dead_lettered_messages_to:
        _LOG.warning("%s: auto-forwarding is not emulated for %r", path, entity_path)
    try:
        lock_seconds = duration_seconds(properties.lock_duration)
    except ConfigError as error:
        raise ConfigError(f"{path}: {entity_path} LockDuration: {error}") from error
    if lock_seconds <= 0:
        raise ConfigError(f"{path}: {entity_path} LockDuration must be longer than zero")
    return MessagingEntity(entity_path, lock_seconds, properties.max_delivery_count)


def _add(receivable: dict[str, MessagingEntity], entity: MessagingEntity, path: Path) -> None:
    key = entity.path.lower()
    if key in receivable:
        raise ConfigError(f"{path}: {entity.path!r} is declared twice")
    receivable[key] = entity
    receivable[entity.dead_letter_path.lower()] = MessagingEntity(
        entity.dead_letter_path, entity.lock_seconds, max_delivery_count=None
    )
