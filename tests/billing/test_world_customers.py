"""``make run``'s GP has a customer card for each world site, matching what the EDW's view says of it."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from localdev.sandbox_gp.company import company_path
from localdev.sandbox_gp.world_customers import seed_world_customers
from localdev.sandbox_sql import SandboxSummary


def test_each_world_site_with_a_gl_string_gets_a_card_with_the_edws_email(
    hub_sql_summary: SandboxSummary, tmp_path: Path
) -> None:
    counts = seed_world_customers(tmp_path, hub_sql_summary.folder)

    with sqlite3.connect(hub_sql_summary.folder / "TP_EDW.sqlite") as edw:
        expected = dict(
            edw.execute(
                "SELECT printf('%04d', CAST(m.SITE AS INTEGER)), COALESCE(g.EMAIL_RECIPIENT, '') "
                "FROM MASTER_NON_FINANCIAL m LEFT JOIN vwGP_CUSTOMER_MSTR g ON g.CUSTNMBR = m.SITE "
                "WHERE TRIM(COALESCE(m.GL_STRING, '')) <> ''"
            ).fetchall()
        )
    found: dict[str, str] = {}
    for company in counts:
        with sqlite3.connect(company_path(tmp_path, company)) as gp:
            found |= dict(
                gp.execute(
                    "SELECT c.CUSTNMBR, i.EmailToAddress FROM RM00101 c JOIN SY01200 i ON i.Master_ID = c.CUSTNMBR"
                ).fetchall()
            )
    assert found == expected and sum(counts.values()) == len(expected) > 0
