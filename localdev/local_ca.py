"""A throwaway certificate authority for the local world's HTTPS services.

MSAL only talks to an https authority and the Key Vault SDK refuses to send
bearer tokens over plain HTTP, so the sandbox identity provider, the sandbox
Dataverse and the Key Vault double all serve TLS. One CA per data folder signs
their certificates; the hub trusts it through the ``LOCAL_CA_BUNDLE`` setting,
never by turning verification off.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import trustme

_CA_CERT = "local-ca.pem"
_SERVER_CERT = "localhost-chain.pem"
_SERVER_KEY = "localhost.key"


@dataclass(frozen=True)
class ServerCertificate:
    """Files a TLS server needs, plus the CA bundle its clients must trust."""

    cert_chain: Path
    private_key: Path
    ca_bundle: Path


def server_certificate(folder: Path) -> ServerCertificate:
    """Return the loopback server certificate in ``folder``, making the CA and it on first use.

    Reusing the same files across restarts keeps a client that already trusts
    the bundle working after ``make run`` is stopped and started again.
    """
    folder.mkdir(parents=True, exist_ok=True)
    files = ServerCertificate(folder / _SERVER_CERT, folder / _SERVER_KEY, folder / _CA_CERT)
    if all(path.exists() for path in (files.cert_chain, files.private_key, files.ca_bundle)):
        return files
    ca = trustme.CA(organization_name="Towne Park hub local CA")
    server = ca.issue_cert("127.0.0.1", "localhost", "::1")
    ca.cert_pem.write_to_path(str(files.ca_bundle))
    server.private_key_pem.write_to_path(str(files.private_key))
    with files.cert_chain.open("wb") as chain:
        for blob in server.cert_chain_pems:
            chain.write(blob.bytes())
    return files
