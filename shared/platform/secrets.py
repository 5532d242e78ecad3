"""Where the hub's secrets come from: Azure Key Vault in Azure, settings locally.

Every secret the hub needs (the Dataverse client secret, SQL passwords,
SmartConnect's password) is asked for by its Key Vault name through one
``SecretStore``. Key Vault answers are cached for a configurable time so a busy
loader does not call the vault per message, and are fetched again when that time
runs out so a rotated secret reaches the hub without a restart.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from typing import Protocol

from azure.core.credentials import TokenCredential
from azure.core.exceptions import ClientAuthenticationError, ResourceNotFoundError
from azure.keyvault.secrets import SecretClient
from pydantic import SecretStr

_UNRESOLVED_REFERENCE = "@Microsoft.KeyVault("


class SecretNotFoundError(LookupError):
    """The named secret is not in the store. Says the name, never a value."""


class SecretStore(Protocol):
    """Gives the current value of a secret by its Key Vault name."""

    def get(self, name: str) -> str: ...

    def check(self) -> None:
        """Raise if the store cannot be reached; used by the health endpoint."""


class SettingsSecretStore:
    """Secrets given as ``SECRET_<NAME>`` settings: the local stand-in for Key Vault."""

    def __init__(self, values: Mapping[str, SecretStr]) -> None:
        self._values = dict(values)

    def get(self, name: str) -> str:
        secret = self._values.get(name)
        if secret is None:
            setting = "SECRET_" + name.upper().replace("-", "_")
            raise SecretNotFoundError(f"secret '{name}' is not configured; set {setting} in local settings")
        value = secret.get_secret_value()
        if value.startswith(_UNRESOLVED_REFERENCE):
            raise SecretNotFoundError(
                f"secret '{name}' is an unresolved Key Vault reference; check the app's identity "
                "has 'Key Vault Secrets User' on the vault"
            )
        return value

    def check(self) -> None:
        """Local values are always there."""


class KeyVaultSecretStore:
    """Secrets read from Azure Key Vault with the hub's identity, cached for ``ttl_seconds``."""

    def __init__(
        self,
        client: SecretClient,
        ttl_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._ttl = ttl_seconds
        self._clock = clock
        self._cache: dict[str, tuple[str, float]] = {}
        self._lock = threading.Lock()

    @classmethod
    def connect(
        cls, vault_url: str, credential: TokenCredential, ttl_seconds: float, **client_options: object
    ) -> KeyVaultSecretStore:
        return cls(SecretClient(vault_url, credential, **client_options), ttl_seconds)

    def get(self, name: str) -> str:
        now = self._clock()
        with self._lock:
            cached = self._cache.get(name)
            if cached is not None and cached[1] > now:
                return cached[0]
        try:
            value = self._client.get_secret(name).value
        except ResourceNotFoundError:
            raise SecretNotFoundError(
                f"secret '{name}' is not in Key Vault {self._client.vault_url}"
            ) from None
        if value is None:
            raise SecretNotFoundError(f"secret '{name}' in Key Vault {self._client.vault_url} has no value")
        with self._lock:
            self._cache[name] = (value, now + self._ttl)
        return value

    def check(self) -> None:
        try:
            next(iter(self._client.list_properties_of_secrets(max_page_size=1)), None)
        except ClientAuthenticationError as error:
            raise ConnectionError(f"Key Vault {self._client.vault_url} refused the hub's identity") from error
