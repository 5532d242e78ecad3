"""The sandbox identity provider's token-signing key: RS256 JWTs out, a JWKS document for verifiers.

Kept apart from the token endpoint so anything that needs Entra-shaped tokens
(the sandbox Dataverse today, the hub's own API tests later) signs and checks
them the same way. The key lives in the data folder, so tokens and the JWKS stay
valid across a restart of ``make run``.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

KEY_FILE = "identity-signing-key.pem"
ALGORITHM = "RS256"


def _b64url_uint(value: int) -> str:
    raw = value.to_bytes((value.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


class SigningKey:
    """One RSA key pair: signs access tokens and publishes its public half as a JWK."""

    def __init__(self, private_key: rsa.RSAPrivateKey) -> None:
        self._private = private_key
        numbers = private_key.public_key().public_numbers()
        self._n = _b64url_uint(numbers.n)
        self._e = _b64url_uint(numbers.e)
        # RFC 7638 thumbprint: stable for the key, like Entra's key ids.
        canonical = json.dumps({"e": self._e, "kty": "RSA", "n": self._n}, separators=(",", ":"))
        digest = hashlib.sha256(canonical.encode("ascii")).digest()
        self.kid = base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")

    @classmethod
    def load_or_create(cls, folder: Path) -> SigningKey:
        """The key stored in ``folder``, made on first use."""
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / KEY_FILE
        if path.exists():
            loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
            if not isinstance(loaded, rsa.RSAPrivateKey):
                raise ValueError(f"{path} does not hold an RSA private key")
            return cls(loaded)
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        path.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        path.chmod(0o600)
        return cls(key)

    def jwk(self) -> dict[str, str]:
        """The public key as Entra publishes it in ``discovery/v2.0/keys`` (without an x5c chain)."""
        return {"kty": "RSA", "use": "sig", "kid": self.kid, "n": self._n, "e": self._e}

    def sign(self, claims: Mapping[str, Any]) -> str:
        return jwt.encode(dict(claims), self._private, algorithm=ALGORITHM, headers={"kid": self.kid})

    def verify(self, token: str, *, audiences: list[str], issuer: str) -> dict[str, Any]:
        """The token's claims if this key signed it for one of ``audiences`` and it is current.

        Raises ``jwt.InvalidTokenError`` (with a reason) otherwise.
        """
        header = jwt.get_unverified_header(token)
        if header.get("kid") != self.kid:
            raise jwt.InvalidTokenError("the token was not signed by this identity provider's key")
        claims: dict[str, Any] = jwt.decode(
            token,
            self._private.public_key(),
            algorithms=[ALGORITHM],
            audience=audiences,
            issuer=issuer,
            leeway=30,
            options={"require": ["exp", "iat", "nbf", "aud", "iss"]},
        )
        return claims
