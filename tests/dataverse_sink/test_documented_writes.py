"""The sink against the sandbox where Microsoft's documentation decides: the create path, unknown columns, empty codes.

* ``skip_if_changed`` creates with a ``POST`` carrying the key columns ("Create a
  table row using the Web API"), never ``PATCH`` + ``If-None-Match: *`` by
  alternate key, which Microsoft documents for a primary key only; a row that
  appears between the read and the write is reported, never overwritten.
* A column the table does not have fails the whole load as a config error naming
  it, and nothing is written.
* Microsoft's 404 and 412 bodies carry ``"code": ""``; the sink goes by the status.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

import pytest

from shared.connectors.dataverse.batch import BatchOperation, BatchPartResponse
from shared.connectors.dataverse.client import web_api_root
from shared.connectors.dataverse.sink import ConflictPolicy, DataverseSink, DataverseTarget
from shared.errors import ConflictError, ErrorClass, HubError, NotFoundError
from shared.http.hosts import HostRegistry
from shared.http.policy import HttpPolicy
from shared.pipeline.target import Outcome
from tests.dataverse_sink.scenarios import HookedClient
from tests.fixtures.dataverse_sandbox import DataverseSandbox

pytestmark = pytest.mark.services

SITES = "bs_mastercustomersites"
CREATE_ONLY_SITES = DataverseTarget(SITES, ("bs_sitenumber",), conflict_policy=ConflictPolicy.SKIP_IF_CHANGED)
SOURCE_WINS_SITES = DataverseTarget(SITES, ("bs_sitenumber",))


class RecordingClient(HookedClient):
    """The hub's client, keeping every operation it sent in a ``$batch``."""

    sent: list[BatchOperation]

    def execute_batch(
        self,
        operations: Sequence[BatchOperation],
        *,
        idempotent: bool,
        on_throttled: Callable[[str], None] | None = None,
    ) -> list[BatchPartResponse]:
        self.sent.extend(operations)
        return super().execute_batch(operations, idempotent=idempotent, on_throttled=on_throttled)


@pytest.fixture
def client(dataverse_sandbox: DataverseSandbox) -> Iterator[RecordingClient]:
    registry = HostRegistry(HttpPolicy(budget_seconds=60), verify=dataverse_sandbox.ca_bundle)
    recording = RecordingClient(
        registry.client(web_api_root(dataverse_sandbox.url)), dataverse_sandbox.hub_token()
    )
    recording.sent = []
    yield recording
    registry.close()


def _site_name(client: RecordingClient, number: str) -> str | None:
    rows = list(client.query(SITES, ["bs_sitename"], filter=f"bs_sitenumber eq '{number}'"))
    return rows[0]["bs_sitename"] if rows else None


def test_skip_if_changed_creates_by_post_and_never_overwrites(client: RecordingClient) -> None:
    def meanwhile() -> None:
        client.upsert(SITES, {"bs_sitenumber": "0702"}, {"bs_sitename": "Created in Dataverse meanwhile"})

    client.after_query.append(meanwhile)
    records = [
        {"bs_sitenumber": "0701", "bs_sitename": "New Garage"},
        {"bs_sitenumber": "0702", "bs_sitename": "Hub's version"},
    ]

    results = DataverseSink(client).upsert(CREATE_ONLY_SITES, records)

    assert [(r.outcome, r.status, r.error_code) for r in results] == [
        (Outcome.CREATED, 204, None),
        (Outcome.CONFLICT, 412, "0x80060892"),
    ]
    assert [(op.method, op.url) for op in client.sent] == [("POST", client.root + SITES)] * 2
    assert all("If-None-Match" not in op.headers for op in client.sent)
    assert b'"bs_sitenumber":"0701"' in (client.sent[0].body or b"")
    assert _site_name(client, "0701") == "New Garage"
    assert _site_name(client, "0702") == "Created in Dataverse meanwhile"


@pytest.mark.parametrize("target", [SOURCE_WINS_SITES, CREATE_ONLY_SITES], ids=lambda t: t.conflict_policy)
def test_a_misspelt_column_fails_the_load_as_config_and_writes_nothing(
    client: RecordingClient, target: DataverseTarget
) -> None:
    records = [
        {"bs_sitenumber": f"08{n:02}", "bs_sitename": f"Site {n}", "bs_sitenmae": "typo in the mapping"}
        for n in range(5)
    ]

    with pytest.raises(HubError) as raised:
        DataverseSink(client).upsert(target, records)

    assert raised.value.error_class is ErrorClass.CONFIG
    assert "bs_sitenmae" in str(raised.value)
    assert list(client.query(SITES, ["bs_sitenumber"])) == []


def test_empty_codes_on_404_and_412_are_decided_by_status(client: RecordingClient) -> None:
    client.upsert(SITES, {"bs_sitenumber": "0901"}, {"bs_sitename": "Read by the hub"})
    target = DataverseTarget(SITES, ("bs_sitenumber",), conflict_policy=ConflictPolicy.SKIP_IF_CHANGED)
    client.after_query.append(
        lambda: client.upsert(SITES, {"bs_sitenumber": "0901"}, {"bs_sitename": "Edited in Dataverse"})
    )

    [stale] = DataverseSink(client).upsert(target, [{"bs_sitenumber": "0901", "bs_sitename": "Hub's write"}])

    assert (stale.outcome, stale.status, stale.error_code) == (Outcome.CONFLICT, 412, None)
    assert _site_name(client, "0901") == "Edited in Dataverse"

    with pytest.raises(ConflictError) as stale_etag:
        client.upsert(SITES, {"bs_sitenumber": "0901"}, {"bs_sitename": "y"}, if_match='W/"1"')
    assert not str(stale_etag.value).endswith("]")  # no code came with it, and none was needed

    missing = "/bs_billingstatements(00000000-0000-0000-0000-000000000901)"
    with pytest.raises(NotFoundError) as not_found:
        client.upsert(
            "bs_invoices", {"bs_invoicenumber": "INV-0901"}, {"bs_billingstatementfk@odata.bind": missing}
        )
    assert "Does Not Exist" in str(not_found.value) and not str(not_found.value).endswith("]")
