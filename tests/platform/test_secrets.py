"""The SecretStore: Key Vault through the real SDK against an HTTPS double, and local settings."""

from __future__ import annotations

import time

import pytest
from azure.core.credentials import AccessToken
from azure.keyvault.secrets import SecretClient
from pydantic import SecretStr

from shared.platform.secrets import KeyVaultSecretStore, SecretNotFoundError, SettingsSecretStore
from tests.fixtures.key_vault import TOKEN, KeyVaultDouble


class FixedToken:
    """Stands in for the managed identity, which needs Azure AD and cannot run here."""

    def get_token(self, *scopes: str, **kwargs: object) -> AccessToken:
        return AccessToken(TOKEN, int(time.time()) + 3600)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def vault_store(vault: KeyVaultDouble, clock: Clock, ttl: float = 300) -> KeyVaultSecretStore:
    client = SecretClient(
        vault.url,
        FixedToken(),  # type: ignore[arg-type]
        verify_challenge_resource=False,
        api_version="7.5",
        connection_verify=str(vault.ca_bundle),
        retry_total=0,
    )
    return KeyVaultSecretStore(client, ttl, clock=clock)


def test_key_vault_secret_is_read_through_the_auth_challenge_and_cached(key_vault: KeyVaultDouble) -> None:
    key_vault.secrets["dataverse-client-secret"] = "first-value"
    clock = Clock()
    store = vault_store(key_vault, clock, ttl=300)

    assert store.get("dataverse-client-secret") == "first-value"
    assert store.get("dataverse-client-secret") == "first-value"
    assert key_vault.reads["dataverse-client-secret"] == 1  # the second answer came from the cache


def test_rotated_secret_is_fetched_again_when_the_cache_expires(key_vault: KeyVaultDouble) -> None:
    key_vault.secrets["edw-sql-password"] = "before-rotation"
    clock = Clock()
    store = vault_store(key_vault, clock, ttl=300)
    assert store.get("edw-sql-password") == "before-rotation"

    key_vault.secrets["edw-sql-password"] = "after-rotation"
    clock.now += 299
    assert store.get("edw-sql-password") == "before-rotation"
    clock.now += 2
    assert store.get("edw-sql-password") == "after-rotation"
    assert key_vault.reads["edw-sql-password"] == 2


def test_missing_key_vault_secret_names_the_secret_and_the_vault(key_vault: KeyVaultDouble) -> None:
    store = vault_store(key_vault, Clock())
    with pytest.raises(SecretNotFoundError, match="'gp-sql-password' is not in Key Vault"):
        store.get("gp-sql-password")


def test_health_check_lists_one_secret_and_fails_when_the_identity_is_refused(
    key_vault: KeyVaultDouble,
) -> None:
    key_vault.secrets["smartconnect-password"] = "x"
    store = vault_store(key_vault, Clock())
    store.check()
    key_vault.refuse_token = True
    with pytest.raises(ConnectionError, match="refused the hub's identity"):
        store.check()


def test_local_secrets_come_from_settings_and_name_the_setting_when_missing() -> None:
    store = SettingsSecretStore({"dataverse-client-secret": SecretStr("local-value")})
    assert store.get("dataverse-client-secret") == "local-value"
    with pytest.raises(SecretNotFoundError, match="SECRET_GP_SQL_PASSWORD"):
        store.get("gp-sql-password")


def test_unresolved_key_vault_reference_is_reported_not_used() -> None:
    reference = "@Microsoft.KeyVault(SecretUri=https://tp-hub.vault.azure.net/secrets/edw-sql-password/)"
    store = SettingsSecretStore({"edw-sql-password": SecretStr(reference)})
    with pytest.raises(SecretNotFoundError, match="unresolved Key Vault reference"):
        store.get("edw-sql-password")
