"""The sandbox GP customer cards for the sandbox world: one per site, in the company its GL string names.

PowerBill bills a site as the GP customer whose number is the site number
(DOMAIN.md §3 A), so each ``MASTER_NON_FINANCIAL`` site with a GL string gets
a card (``RM00101``) with its name and address, and the e-mail the EDW's
``vwGP_CUSTOMER_MSTR`` shows for it (``SY01200``), the two views of one GP
customer agreeing as they do in Towne Park's EDW. Readiness and the
``gp_customers`` sync then read a world where most sites are in order.
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from contextlib import closing
from pathlib import Path

from localdev.sandbox_gp.company import Customer, seed_customers
from shared.workflows.gp_posting.billing import company_of_gl_string


def world_customers(sql_folder: Path) -> dict[str, list[Customer]]:
    """Each company's cards for the world's sites with a GL string."""
    with closing(sqlite3.connect(sql_folder / "TP_EDW.sqlite")) as connection:
        rows = connection.execute(
            "SELECT m.SITE, m.SITE_NAME, m.STREET_ADDRESS, m.CITY, m.STATE, m.ZIP, m.GL_STRING, g.EMAIL_RECIPIENT "
            "FROM MASTER_NON_FINANCIAL m LEFT JOIN vwGP_CUSTOMER_MSTR g ON g.CUSTNMBR = m.SITE "
            "WHERE TRIM(COALESCE(m.GL_STRING, '')) <> ''"
        ).fetchall()
    cards: dict[str, list[Customer]] = defaultdict(list)
    for site, name, street, city, state, zip_code, gl_string, email in rows:
        number = str(site).strip().zfill(4)
        cards[company_of_gl_string(str(gl_string).strip())].append(
            Customer(number, name or "", street or "", city or "", state or "", zip_code or "", email or "")
        )
    return dict(cards)


def seed_world_customers(gp_folder: Path, sql_folder: Path) -> dict[str, int]:
    """Write (or rewrite) the world's cards; returns cards per company."""
    counts = {}
    for company, cards in world_customers(sql_folder).items():
        seed_customers(gp_folder, company, cards)
        counts[company] = len(cards)
    return counts
