"""The one composition root: builds every client from the settings, once per process.

Functions keeps a worker process alive across invocations, so clients built
here (and their connection pools, token caches and circuit breakers) are reused
by every trigger. Triggers ask for ``hub()``; tests build a ``Hub`` from their
own ``Settings`` with ``build_hub``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

from azure.core.credentials import TokenCredential
from azure.identity import DefaultAzureCredential
from azure.storage.blob import BlobServiceClient

from shared.platform import service_bus
from shared.platform.blob_lock import BlobLocks
from shared.platform.blob_store import BlobStore
from shared.platform.secrets import KeyVaultSecretStore, SecretStore, SettingsSecretStore
from shared.platform.service_bus import ServiceBus
from shared.settings import Settings, load_settings


@dataclass(frozen=True)
class Hub:
    """Every long-lived client the hub's use cases need."""

    settings: Settings
    secrets: SecretStore
    staging: BlobStore
    state: BlobStore
    locks: BlobLocks
    service_bus: ServiceBus

    def health_checks(self) -> dict[str, Callable[[], None]]:
        """What ``GET /api/health`` probes: each returns when its dependency answers."""
        checks: dict[str, Callable[[], None]] = {
            "blob": self.staging.check,
            "service_bus": functools.partial(self.service_bus.check, self.settings.sync_requests_queue),
        }
        if self.settings.key_vault_uri is not None:
            checks["key_vault"] = self.secrets.check
        return checks


@functools.cache
def hub_settings() -> Settings:
    """The process's settings; raises ``SettingsError`` naming what is missing or malformed."""
    return load_settings()


@functools.cache
def hub() -> Hub:
    return build_hub(hub_settings())


def build_hub(settings: Settings) -> Hub:
    credential = _credential(settings)
    blob_service = _blob_service(settings, credential)
    staging = BlobStore(blob_service, settings.staging_container)
    state = BlobStore(blob_service, settings.state_container)
    return Hub(
        settings=settings,
        secrets=_secret_store(settings, credential),
        staging=staging,
        state=state,
        locks=BlobLocks(state.container),
        service_bus=service_bus.connect(settings.service_bus_connection, credential),
    )


def _credential(settings: Settings) -> TokenCredential | None:
    """The managed identity, when some connection is identity-based; locally there is none."""
    needs_identity = (
        settings.key_vault_uri is not None
        or settings.blob.connection_string is None
        or settings.service_bus_connection.connection_string is None
    )
    if not needs_identity:
        return None
    return DefaultAzureCredential(managed_identity_client_id=settings.managed_identity_client_id)


def _blob_service(settings: Settings, credential: TokenCredential | None) -> BlobServiceClient:
    connection = settings.blob
    if connection.connection_string:
        return BlobServiceClient.from_connection_string(connection.connection_string)
    if connection.client_id and connection.client_id != settings.managed_identity_client_id:
        credential = DefaultAzureCredential(managed_identity_client_id=connection.client_id)
    return BlobServiceClient(str(connection.service_uri), credential=credential)


def _secret_store(settings: Settings, credential: TokenCredential | None) -> SecretStore:
    if settings.key_vault_uri is None or credential is None:
        return SettingsSecretStore(settings.local_secrets)
    return KeyVaultSecretStore.connect(
        str(settings.key_vault_uri), credential, settings.key_vault_cache_seconds
    )
