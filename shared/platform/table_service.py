"""The staging account's Table service client, from the same connection setting as its Blob service.

Locally the ``StagingStorage`` connection string names both endpoints (Azurite's
``UseDevelopmentStorage=true`` implies them); in Azure ``StagingStorage__tableServiceUri``
and the managed identity select it, as ``__blobServiceUri`` does for Blob.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from azure.core.credentials import TokenCredential
from azure.data.tables import TableServiceClient
from azure.identity import DefaultAzureCredential

from shared.settings import TableConnection


def table_service(
    connection: TableConnection,
    credential: TokenCredential | None,
    default_client_id: str | None = None,
    options: Mapping[str, Any] | None = None,
) -> TableServiceClient:
    """A client for the account's tables; ``credential`` is the hub's identity when it has one, and
    ``options`` its time-outs and retries (``shared.platform.patience``)."""
    extra = dict(options or {})
    if connection.connection_string:
        return TableServiceClient.from_connection_string(connection.connection_string, **extra)
    if credential is None or (connection.client_id and connection.client_id != default_client_id):
        credential = DefaultAzureCredential(managed_identity_client_id=connection.client_id)
    return TableServiceClient(str(connection.service_uri), credential=credential, **extra)
