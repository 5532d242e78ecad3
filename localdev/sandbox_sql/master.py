"""Site master data in the EDW: ``MASTER_NON_FINANCIAL`` and GP's customers (``vwGP_CUSTOMER_MSTR``).

GP's customer number is the site number; its billing email is blank for some
sites and some sites are not GP customers yet, which the master-site sync's
LEFT JOIN must survive (DOMAIN.md §4).
"""

from __future__ import annotations

import sqlite3

from localdev.sandbox_sql.job_codes import HEALTHCARE, HOTEL
from localdev.sandbox_sql.loading import date_text, insert
from localdev.sandbox_sql.world import COMPANIES, World
from shared.sql.tables import master_non_financial, vw_gp_customer_mstr

HOTEL_SEGMENTS = ("Luxury", "Upper Upscale", "Upper Upscale", "Upscale", "Select Service")
# P&L categories by contract type (the sandbox's values; Towne Park's are not published).
_PL_CATEGORY = {"Management Agreement": "Management Agreement", "Revenue Share": "Lease"}


def write_master(connection: sqlite3.Connection, world: World) -> None:
    insert(
        connection,
        master_non_financial,
        [column.name for column in master_non_financial.c],
        (
            (
                site.number,
                site.name,
                site.district.name,
                site.district.manager.full_name,
                site.street,
                site.city,
                site.place.state,
                site.zip,
                site.gl_string,
                "Y" if site.deposits else "N",
                site.contract_type,
                date_text(site.first_worked),
                date_text(site.last_worked) if site.last_worked else None,
                site.district.region,
                COMPANIES[site.company],
                _PL_CATEGORY.get(site.contract_type, "Service Agreement"),
                _cog_segment(site.kind, int(site.number)),
                site.kind,
                site.rooms,
                site.parking,
                1,
            )
            for site in world.sites
        ),
    )
    insert(
        connection,
        vw_gp_customer_mstr,
        ("CUSTNMBR", "EMAIL_RECIPIENT"),
        ((site.number, site.billing_email) for site in world.sites if site.billing_email is not None),
    )


def _cog_segment(kind: str, number: int) -> str:
    if kind == HOTEL:
        return HOTEL_SEGMENTS[number % len(HOTEL_SEGMENTS)]
    return "Healthcare" if kind == HEALTHCARE else "Commercial Real Estate"
