"""Who the sandbox Entra ID knows: one tenant, its app registrations (clients) and the APIs they may call.

Read from a small JSON file (``directory.json`` next to this module by
default, matching ``local.settings.json.example``)::

    {
      "tenant_id": "...",
      "clients": [
        {"client_id": "...", "client_secret": "...", "display_name": "...",
         "roles": {"api://<hub client id>": ["Hub.Operator"]}}
      ],
      "resources": [{"identifier_uri": "api://<hub client id>", "audience": "<hub client id>"}]
    }

``roles`` are the app roles granted to the client, per resource (a plain list
means: on every resource). ``resources`` are the APIs besides the sandbox
Dataverse, which is always known; ``audience`` is the ``aud`` claim Entra puts in
their tokens (for an API registered with v2 tokens, its client id rather than
its ``api://`` URI), defaulting to the identifier URI.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_DIRECTORY = Path(__file__).with_name("directory.json")


class DirectoryError(ValueError):
    """The directory file is not usable; the message names the file and the field."""


@dataclass(frozen=True)
class Client:
    """An app registration with a client secret, as the client-credentials grant sees it."""

    client_id: str
    client_secret: str
    display_name: str
    roles: Mapping[str, Sequence[str]] = field(default_factory=dict)
    roles_everywhere: Sequence[str] = ()

    def roles_for(self, resource: str) -> list[str]:
        return [*self.roles_everywhere, *self.roles.get(resource, ())]


@dataclass(frozen=True)
class Resource:
    """An API tokens can be asked for: ``scope=<identifier_uri>/.default`` gives ``aud=<audience>``."""

    identifier_uri: str
    audience: str


@dataclass(frozen=True)
class Directory:
    tenant_id: str
    clients: Mapping[str, Client]
    resources: Mapping[str, Resource]

    def with_resource(self, resource: Resource) -> Directory:
        return Directory(self.tenant_id, self.clients, {**self.resources, resource.identifier_uri: resource})

    def resource(self, identifier: str) -> Resource | None:
        """The resource a scope names; a trailing slash on the identifier makes no difference."""
        return self.resources.get(identifier) or self.resources.get(identifier.rstrip("/"))


def load_directory(path: Path) -> Directory:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise DirectoryError(f"cannot read the sandbox directory {path}: {error}") from None
    if not isinstance(document, dict):
        raise DirectoryError(f"{path}: the directory must be a JSON object")
    tenant = _text(document, "tenant_id", path)
    clients = {}
    for entry in _list(document, "clients", path):
        client = _client(entry, path)
        clients[client.client_id] = client
    resources = {}
    for entry in _list(document, "resources", path):
        uri = _text(entry, "identifier_uri", path).rstrip("/")
        audience = entry.get("audience") or uri
        resources[uri] = Resource(uri, str(audience))
    return Directory(tenant, clients, resources)


def _client(entry: Any, path: Path) -> Client:
    roles = entry.get("roles", {}) if isinstance(entry, dict) else {}
    if isinstance(roles, list):
        return Client(
            _text(entry, "client_id", path),
            _text(entry, "client_secret", path),
            str(entry.get("display_name", "")),
            roles_everywhere=tuple(str(role) for role in roles),
        )
    if not isinstance(roles, dict):
        raise DirectoryError(f"{path}: a client's roles are a list or an object of lists")
    return Client(
        _text(entry, "client_id", path),
        _text(entry, "client_secret", path),
        str(entry.get("display_name", "")),
        roles={uri.rstrip("/"): tuple(str(role) for role in granted) for uri, granted in roles.items()},
    )


def _text(entry: Any, name: str, path: Path) -> str:
    value = entry.get(name) if isinstance(entry, dict) else None
    if not isinstance(value, str) or not value:
        raise DirectoryError(f"{path}: '{name}' must be a non-empty string")
    return value


def _list(document: dict[str, Any], name: str, path: Path) -> list[Any]:
    value = document.get(name, [])
    if not isinstance(value, list):
        raise DirectoryError(f"{path}: '{name}' must be a list")
    return value
