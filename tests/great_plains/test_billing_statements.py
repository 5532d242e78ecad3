"""``python -m localdev statements`` seeds statements that post to sandbox GP whole, and seeds them once.

The chart comes from ``world_chart`` over a small sandbox SQL world, as ``make
run`` seeds it; the statements are read back and posted by the hub's own
``GpPostings`` (``gp_hub``), so any drift between the seeding, the chart and
the posting rules shows up as a refused or rejected document here.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine

from localdev.billing_statements import StatementKind, seed_billing_statements
from localdev.sandbox_gp.world_chart import seed_world_chart
from localdev.sandbox_sql import build_sandbox
from shared.composition import Hub
from shared.connectors.great_plains.ledger import GpLedger
from shared.sql.engines import sql_server_engine
from shared.workflows.gp_posting.requests import PostingRequestMessage, PostingSubject, new_request_id
from tests.fixtures.gp_sandbox import GpSandbox
from tests.great_plains.gp_world import as_held, expected, gp_documents

pytestmark = pytest.mark.services
MONTH = date(2025, 4, 1)
COUNTED = {
    "bs_billingstatements": "bs_billingstatementid",
    "bs_customersites": "bs_customersiteid",
    "bs_contracts": "bs_contractid",
    "bs_invoices": "bs_invoiceid",
}


@pytest.fixture(scope="module")
def sql_world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Sixteen sites: fourteen TOWNE, one ENC, one UPP (seed 2)."""
    folder = tmp_path_factory.mktemp("statements-sql")
    build_sandbox(folder, sites=16, days=1, seed=2)
    return folder


@pytest.fixture
def edw(sql_world: Path) -> Engine:
    return sql_server_engine(f"sqlite:///{sql_world / 'TP_EDW.sqlite'}", None, 60)


def row_counts(hub: Hub) -> dict[str, int]:
    return {
        entity_set: len(list(hub.dataverse.query(entity_set, (key,)))) for entity_set, key in COUNTED.items()
    }


def test_every_seeded_statement_posts_to_gp_and_seeding_again_duplicates_nothing(
    gp_hub: Hub, gp_sandbox: GpSandbox, sql_world: Path, edw: Engine
) -> None:
    seed_world_chart(gp_sandbox.folder, sql_world)
    assert gp_hub.gp_databases is not None
    chart = GpLedger(gp_hub.gp_databases.engine).chart

    seeded = seed_billing_statements(gp_hub.dataverse, edw, chart, 12, MONTH)
    counts = row_counts(gp_hub)
    again = seed_billing_statements(gp_hub.dataverse, edw, chart, 12, MONTH)

    assert len(seeded) == 12
    assert [item.statement_id for item in again] == [item.statement_id for item in seeded]
    assert row_counts(gp_hub) == counts == dict.fromkeys(COUNTED, 12)
    assert {item.kind for item in seeded} == set(StatementKind)
    assert sorted(item.company for item in seeded) == ["ENC", *["TOWNE"] * 10, "UPP"]

    records = [
        gp_hub.gp_postings.process(
            PostingRequestMessage(
                request_id=new_request_id(datetime.now(UTC)),
                subject=PostingSubject(statement_id=item.statement_id),
            )
        )
        for item in seeded
    ]

    assert [(r.status, r.refusals, r.last_error) for r in records] == [("succeeded", [], None)] * 12
    assert {d.status for r in records for d in r.documents} == {"posted"}
    assert gp_documents(gp_sandbox) == as_held(expected([item.statement for item in seeded]))
