"""Entra ID bearer tokens against the sandbox identity provider's real JWKS over HTTPS: 401 vs 403."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import jwt
import orjson
import pytest
from azure.storage.blob import BlobServiceClient
from cryptography.hazmat.primitives.asymmetric import rsa

from localdev.sandbox.signing_key import SigningKey
from shared.api.callers import EntraAudience
from shared.api.service import HubApi
from shared.composition import Hub
from tests.api.api_world import build_api, call
from tests.fixtures.dataverse_sandbox import DataverseSandbox
from tests.fixtures.servicebus_emulator import ServiceBusEmulator
from tests.pipeline.world import World, build_world

pytestmark = pytest.mark.services


@pytest.fixture
def world(blob_service: BlobServiceClient, servicebus_emulator: ServiceBusEmulator) -> Iterator[World]:
    built = build_world(blob_service, servicebus_emulator.connection_string)
    yield built
    built.bus.close()


@pytest.fixture
def secured(
    world: World, hub: Hub, dataverse_sandbox: DataverseSandbox
) -> Iterator[tuple[HubApi, DataverseSandbox, World]]:
    audience = EntraAudience(
        dataverse_sandbox.hub_api_client_id,
        dataverse_sandbox.tenant_id,
        dataverse_sandbox.authority_host,
        dataverse_sandbox.ca_bundle,
    )
    api, _ = build_api(hub, tokens=audience)
    yield api, dataverse_sandbox, world


def _claims(sandbox: DataverseSandbox, **changes: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {
        "aud": sandbox.hub_api_client_id,
        "iss": f"{sandbox.authority}/v2.0",
        "tid": sandbox.tenant_id,
        "sub": "flow-service-principal",
        "oid": "flow-service-principal",
        "iat": now,
        "nbf": now,
        "exp": now + 600,
        "roles": ["Integration.Read"],
    }
    claims.update(changes)
    return {name: value for name, value in claims.items() if value is not None}


def _token(sandbox: DataverseSandbox, **changes: Any) -> str:
    return SigningKey.load_or_create(sandbox.data_dir).sign(_claims(sandbox, **changes))


def _list_syncs(api: HubApi, token: str | None) -> tuple[int, dict[str, Any]]:
    headers = {"x-functions-key": "k"} | ({"authorization": f"Bearer {token}"} if token else {})
    response = call(api, "ListSyncs", "/api/v1/syncs", headers=headers)
    return response.status, orjson.loads(response.body)


def test_a_token_with_the_role_is_accepted_for_both_audience_forms(
    secured: tuple[HubApi, DataverseSandbox, World],
) -> None:
    api, sandbox, _ = secured
    assert _list_syncs(api, _token(sandbox))[0] == 200
    assert _list_syncs(api, _token(sandbox, aud=sandbox.hub_api_identifier))[0] == 200


@pytest.mark.parametrize(
    "change",
    [
        {"aud": "api://someone-else"},
        {"tid": "00000000-0000-0000-0000-000000000000"},
        {"iss": "https://login.example/elsewhere/v2.0"},
        {"exp": int(time.time()) - 3600, "iat": int(time.time()) - 7200, "nbf": int(time.time()) - 7200},
        {"tid": None},
    ],
    ids=["audience", "tenant", "issuer", "expired", "no-tenant"],
)
def test_a_wrong_token_is_401(
    secured: tuple[HubApi, DataverseSandbox, World], change: dict[str, Any]
) -> None:
    api, sandbox, _ = secured
    status, problem = _list_syncs(api, _token(sandbox, **change))
    assert status == 401 and problem["type"].endswith("unauthorized")


def test_a_forged_signature_and_a_missing_token_are_401(
    secured: tuple[HubApi, DataverseSandbox, World],
) -> None:
    api, sandbox, _ = secured
    real_kid = SigningKey.load_or_create(sandbox.data_dir).kid
    forger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = jwt.encode(_claims(sandbox), forger, algorithm="RS256", headers={"kid": real_kid})
    assert _list_syncs(api, forged)[0] == 401
    assert _list_syncs(api, None)[0] == 401
    assert _list_syncs(api, "not-a-jwt")[0] == 401


def test_a_valid_token_without_the_role_is_403(secured: tuple[HubApi, DataverseSandbox, World]) -> None:
    api, sandbox, _ = secured
    assert _list_syncs(api, _token(sandbox, roles=None))[0] == 403
    # The sandbox's own token for the API carries a role the hub does not know.
    issued = sandbox.access_token(sandbox.hub_api_identifier)
    assert _list_syncs(api, issued)[0] == 403
    reader = {"x-functions-key": "k", "authorization": f"Bearer {_token(sandbox)}"}
    started = call(api, "StartSync", "/x", method="POST", route={"stream": "any"}, headers=reader)
    assert started.status == 403 and "Integration.Run" in orjson.loads(started.body)["detail"]
