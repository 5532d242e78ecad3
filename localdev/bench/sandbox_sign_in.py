"""The hub's sign-in to a sandbox Dataverse started with the default directory, for the benchmarks."""

from __future__ import annotations

from pathlib import Path

from localdev.sandbox.directory import DEFAULT_DIRECTORY, load_directory
from shared.connectors.dataverse.auth import DataverseToken
from shared.connectors.dataverse.client import DataverseClient, web_api_root
from shared.http.hosts import HostRegistry


def sandbox_dataverse(
    org_url: str, ca_bundle: Path, hosts: HostRegistry
) -> tuple[DataverseClient, DataverseToken]:
    """A Dataverse client signed in as the directory's first client; the token is returned so a
    benchmark can sign in before its clock starts (it measures loading, not MSAL's first call)."""
    directory = load_directory(DEFAULT_DIRECTORY)
    client = next(iter(directory.clients.values()))
    token = DataverseToken(
        org_url=org_url,
        tenant_id=directory.tenant_id,
        client_id=client.client_id,
        client_secret=lambda: client.client_secret,
        authority_host=org_url,
        verify=ca_bundle,
    )
    return DataverseClient(hosts.client(web_api_root(org_url)), token), token
