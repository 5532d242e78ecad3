"""``/v1/budget/revisions``: only a caller whose Entra ID token carries Budget.Approve decides a revision.

The API is the app's (``wiring.build_api``) over Azurite; tokens come from the
sandbox Entra ID's token endpoint for its approver client (client credentials,
as an approval flow's connection signs in) and are checked against its JWKS.
The revision is filed through the hub's own revisions table as a budget_monthly
run files one (``tests/connectors/test_budget_revisions.py`` covers detection).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import orjson
import pytest
from azure.storage.blob import BlobServiceClient

from localdev.sandbox.signing_key import SigningKey
from shared.api.callers import EntraAudience
from shared.api.service import HubApi
from shared.composition import Hub
from shared.workflows.budget_revisions.revision_table import RevisionTable
from shared.workflows.budget_revisions.revisions import BudgetRevision, RevisionEvent, detected, move
from tests.api.api_world import build_api, call
from tests.fixtures.dataverse_sandbox import DataverseSandbox
from tests.fixtures.servicebus_emulator import ServiceBusEmulator
from tests.pipeline.world import World, build_world

pytestmark = pytest.mark.services
AT = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


@pytest.fixture
def world(blob_service: BlobServiceClient, servicebus_emulator: ServiceBusEmulator) -> Iterator[World]:
    built = build_world(blob_service, servicebus_emulator.connection_string)
    yield built
    built.bus.close()


def _pending(revisions: RevisionTable, account: str, new: str) -> BudgetRevision:
    revision = detected("0170", "202603", account, "PAYROLL", Decimal("1000.00"), Decimal(new), AT)
    assert revisions.create(revision)
    return revisions.update(
        revision.id, lambda r: move(r, RevisionEvent.SUBMITTED, AT, "hub", "put to the budget approvers")
    )


def _signed(sandbox: DataverseSandbox, roles: list[str]) -> str:
    now = int(time.time())
    claims = {
        "aud": sandbox.hub_api_client_id,
        "iss": f"{sandbox.authority}/v2.0",
        "tid": sandbox.tenant_id,
        "sub": "an-admin",
        "oid": "an-admin",
        "iat": now,
        "nbf": now,
        "exp": now + 600,
        "roles": roles,
    }
    return SigningKey.load_or_create(sandbox.data_dir).sign(claims)


def _decide(
    api: HubApi, verb: str, revision_id: str, token: str | None, comment: str | None = None
) -> tuple[int, dict[str, Any]]:
    headers = {"x-functions-key": "k"} | ({"authorization": f"Bearer {token}"} if token else {})
    body = orjson.dumps({"comment": comment}) if comment else b""
    if body:
        headers["content-type"] = "application/json"
    operation = "ApproveBudgetRevision" if verb == "approve" else "RejectBudgetRevision"
    response = call(
        api,
        operation,
        f"/api/v1/budget/revisions/{revision_id}/{verb}",
        method="POST",
        route={"id": revision_id},
        headers=headers,
        body=body,
    )
    return response.status, orjson.loads(response.body)


def test_a_function_key_alone_may_list_revisions_but_never_decide_one(hub: Hub) -> None:
    api, _ = build_api(hub)  # no Entra ID: callers are their keys
    revision = _pending(hub.for_api.budget_revisions, "6005", "1250.50")

    listed = call(
        api, "ListBudgetRevisions", "/api/v1/budget/revisions", query={"status": "pending_approval"}
    )
    assert listed.status == 200
    (shown,) = orjson.loads(listed.body)["value"]
    assert (shown["id"], shown["period"], shown["oldBalance"], shown["newBalance"], shown["change"]) == (
        revision.id,
        "2026-03",
        1000.0,
        1250.5,
        250.5,
    )
    status, problem = _decide(api, "approve", revision.id, None)
    assert status == 403 and "Budget.Approve" in problem["detail"]
    stored = hub.for_api.budget_revisions.get(revision.id)
    assert stored is not None and stored.status == "pending_approval"


def test_an_approver_decides_once_and_every_decision_is_kept_with_who_and_why(
    hub: Hub, dataverse_sandbox: DataverseSandbox
) -> None:
    audience = EntraAudience(
        dataverse_sandbox.hub_api_client_id,
        dataverse_sandbox.tenant_id,
        dataverse_sandbox.authority_host,
        dataverse_sandbox.ca_bundle,
    )
    api, _ = build_api(hub, tokens=audience)
    revisions = hub.for_api.budget_revisions
    approve_me, reject_me = _pending(revisions, "6005", "1100"), _pending(revisions, "6110", "900")
    approver = dataverse_sandbox.approver_token()

    assert _decide(api, "approve", approve_me.id, _signed(dataverse_sandbox, ["Integration.Admin"]))[0] == 403
    status, approved = _decide(api, "approve", approve_me.id, approver, "reforecast agreed with the GM")
    assert status == 200 and approved["status"] == "approved"
    assert _decide(api, "approve", approve_me.id, approver)[0] == 409
    assert _decide(api, "reject", approve_me.id, approver)[0] == 409
    status, rejected = _decide(api, "reject", reject_me.id, approver)
    assert status == 200 and rejected["status"] == "rejected"
    assert _decide(api, "approve", reject_me.id, approver)[0] == 409
    assert _decide(api, "approve", "0170-202603-6005-0123456789", approver)[0] == 404

    stored = revisions.get(approve_me.id)
    assert stored is not None
    last = stored.history[-1]
    assert (last.status, last.why) == ("approved", "reforecast agreed with the GM")
    assert last.by.startswith("entra:") and last.by != "entra:an-admin"
    stored_rejection = revisions.get(reject_me.id)
    assert stored_rejection is not None and stored_rejection.history[-1].why == "rejected"
    headers = {"x-functions-key": "k", "authorization": f"Bearer {approver}"}
    listed = call(api, "ListBudgetRevisions", "/x", query={"status": "approved"}, headers=headers)
    assert [revision["id"] for revision in orjson.loads(listed.body)["value"]] == [approve_me.id]
