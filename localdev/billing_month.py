"""A billing month with one readiness blocker of each kind and one reconciliation difference of each kind.

The billing tests write it with ``seed_billing_month`` (a Dataverse client and
the GP sandbox's folder: ``make run``'s work the same): customer sites,
contracts and RSS submissions in the sandbox Dataverse, customer cards, the
chart and fiscal periods in sandbox GP, then
the month's statements and invoices in Dataverse and the GP documents GP
would hold after the run, each planted to show one thing. ``Planted`` says
what a correct readiness and reconciliation must find, and nothing else.

Sites are 87xx (no sandbox world site uses them) and the month defaults to
May 2033, so a month of the sandbox world is never disturbed. The closed
fiscal period is closed in UPP only, where the one UPP site is;
``reopen`` opens it again and reactivates the account made inactive.
"""

from __future__ import annotations

import sqlite3
import uuid
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from localdev.sandbox_gp.company import (
    Customer,
    company_path,
    seed_accounts,
    seed_customers,
    set_account_active,
    set_period_closed,
)
from shared.connectors.dataverse.client import DataverseClient
from shared.connectors.great_plains.chart import Series
from shared.workflows.gp_posting import statements as columns

DEFAULT_PERIOD = "2033-05"
ID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://townepark.com/integration-hub/localdev/billing-month")
TOWNE_GL = "02-01-3000-"
UPP_GL = "22-01-3000-"
ARREARS, ADVANCED = 126840001, 126840000
SENT, READY_TO_SEND = 126840003, 126840006


@dataclass(frozen=True)
class PlantedSite:
    number: str
    gl_string: str
    email: str = "billing@example.com"
    contract: int | None = ADVANCED  # bs_billingtype; None: no contract
    gp_customer: bool = True
    rss_status: str | None = None  # cr9e8_invoicestatus of the month's submission, if any


@dataclass(frozen=True)
class Planted:
    """What was written, and what readiness and reconciliation must find in it."""

    period: str
    sites: tuple[str, ...]
    blockers: dict[str, str]  # site → its one blocker
    differences: dict[str, str]  # GP document number → its one difference
    quiet_documents: tuple[str, ...] = field(default=())  # documents that must show no difference


SITES = (
    PlantedSite("8701", TOWNE_GL),
    PlantedSite("8702", TOWNE_GL, gp_customer=False),
    PlantedSite("8703", TOWNE_GL, email=""),
    PlantedSite("8704", TOWNE_GL),  # its 4791 account is made inactive
    PlantedSite("8705", UPP_GL),  # UPP's period is closed
    PlantedSite("8706", TOWNE_GL, contract=None),
    PlantedSite("8707", TOWNE_GL, contract=ARREARS, rss_status="Rejected"),
    PlantedSite("8708", TOWNE_GL, contract=ARREARS, rss_status="Ready for Invoice"),
)
BLOCKERS = {
    "8702": "no-gp-customer",
    "8703": "no-billing-email",
    "8704": "inactive-gl-account",
    "8705": "closed-fiscal-period",
    "8706": "no-contract",
    "8707": "rss-not-ready",
}
INACTIVE_ACCOUNT = f"{TOWNE_GL}4791-8704"
# (site, amount, sent, GP documents): one invoice per site.
INVOICES = (
    ("8701", "1250.00", True, (("TOWNE", "RM20101", "1250.00"),)),  # all in order
    ("8708", "980.40", True, ()),  # sent-not-in-gp
    ("8703", "310.00", True, (("TOWNE", "RM20101", "310.00"), ("TOWNE", "RM30101", "310.00"))),  # in-gp-twice
    ("8704", "725.00", True, (("TOWNE", "RM20101", "752.00"),)),  # amount-differs
    ("8706", "400.00", False, ()),  # not sent yet: no difference
    ("8707", "-300.00", True, (("TOWNE", "PM20000", "300.00"),)),  # a credit, in payables: in order
)
STRAY_SITE = "8709"  # GP holds its document in the month's PowerBill batch; PowerBill has no statement
DIFFERENCES = {
    "8708": "sent-not-in-gp",
    "8703": "in-gp-twice",
    "8704": "amount-differs",
    STRAY_SITE: "posted-without-statement",
}


def document_number(site: str, period: str) -> str:
    return f"{site}{period.replace('-', '')}0100"


def _id(*parts: str) -> str:
    return str(uuid.uuid5(ID_NAMESPACE, "/".join(parts)))


def _month_end(period: str) -> date:
    year, month = (int(part) for part in period.split("-"))
    following = date(year + month // 12, month % 12 + 1, 1)
    return date.fromordinal(following.toordinal() - 1)


def seed_gp(gp_folder: Path, period: str) -> None:
    """Cards, chart and the closed UPP period; then the GP documents of ``INVOICES`` and the stray one."""
    for company, gl in (("TOWNE", TOWNE_GL), ("UPP", UPP_GL)):
        sites = [site for site in SITES if site.gl_string == gl]
        code = gl[:2]
        accounts = [f"{code}-00-0000-1200-0000"]
        accounts += [f"{gl}{fee}-{site.number}" for site in sites for fee in ("4790", "4791")]
        seed_accounts(gp_folder, company, accounts)
        seed_customers(
            gp_folder,
            company,
            [
                Customer(
                    site.number, f"Site {site.number}", "1 Main St", "Nashville", "TN", "37203", site.email
                )
                for site in sites
                if site.gp_customer
            ],
        )
    set_account_active(gp_folder, "TOWNE", INACTIVE_ACCOUNT, active=False)
    set_period_closed(gp_folder, "UPP", _month_end(period), Series.SALES)
    batch = f"{period.replace('-', '')}POWERBILL{_month_end(period).isoformat()}"
    documents = [
        (site, company, table, amount) for site, _, _, held in INVOICES for company, table, amount in held
    ] + [(STRAY_SITE, "TOWNE", "RM20101", "95.00")]
    with sqlite3.connect(company_path(gp_folder, "TOWNE")) as connection:
        for site, _, table, amount in documents:
            number = document_number(site, period)
            if table.startswith("RM"):
                connection.execute(
                    f"INSERT INTO {table} (CUSTNMBR, DOCNUMBR, RMDTYPAL, BACHNUMB, DOCDATE, ORTRXAMT, CURTRXAM, "  # noqa: S608
                    "SLSAMNT) VALUES (?, ?, 1, ?, ?, ?, ?, ?)",
                    (site, number, batch, _month_end(period).isoformat(), amount, amount, amount),
                )
            else:
                connection.execute(
                    "INSERT INTO PM20000 (VCHRNMBR, VENDORID, DOCNUMBR, DOCTYPE, DOCAMNT, CURTRXAM, BACHNUMB, DOCDATE) "
                    "VALUES (?, ?, ?, 5, ?, ?, ?, ?)",
                    (f"V{number}", f"V{site}", number, amount, amount, batch, _month_end(period).isoformat()),
                )


def reopen(gp_folder: Path, period: str) -> None:
    """Undo what ``seed_gp`` closed: UPP's period and the inactive account."""
    set_period_closed(gp_folder, "UPP", _month_end(period), Series.SALES, closed=False)
    set_account_active(gp_folder, "TOWNE", INACTIVE_ACCOUNT, active=True)


def seed_dataverse(dataverse: DataverseClient, period: str) -> None:
    """Sites, contracts, RSS submissions, then the month's statements and invoices."""
    first = f"{period}-01"
    for site in SITES:
        site_id = _id("customer-site", site.number)
        dataverse.upsert(
            columns.CUSTOMER_SITES,
            {columns.SITE_ID: site_id},
            {
                "bs_sitenumber": site.number,
                "bs_sitename": f"Site {site.number}",
                "bs_glstring": site.gl_string,
                "bs_vendorid": f"V{site.number}",
                "bs_billingcontactemail": site.email or None,
            },
        )
        if site.contract is not None:
            dataverse.upsert(
                columns.CONTRACTS, {columns.CONTRACT_SITE: site_id}, {"bs_billingtype": site.contract}
            )
        if site.rss_status is not None:
            dataverse.upsert(
                "cr9e8_readyforinvoices",
                {"cr9e8_readyforinvoiceid": _id("rss", site.number, period)},
                {
                    "cr9e8_site": site.number,
                    "cr9e8_period": period,
                    "cr9e8_rssfile": f"Site {site.number}REV{period[:4]} C{int(period[5:])}.xlsm",
                    "cr9e8_invoicestatus": site.rss_status,
                },
            )
    for number, amount, sent, held in INVOICES:
        statement = _id("statement", number, period)
        dataverse.upsert(
            columns.BILLING_STATEMENTS,
            {columns.STATEMENT_ID: statement},
            {
                "bs_serviceperiodstart": first,
                columns.STATEMENT_SITE: _id("customer-site", number),
                "bs_statementstatus": SENT if sent else READY_TO_SEND,
                "bs_statementversionnumber": 0,
            },
        )
        invoice: dict[str, object] = {
            "bs_amount": float(amount),
            "bs_invoicedate": _month_end(period).isoformat(),
            columns.INVOICE_STATEMENT: statement,
        }
        if held:  # GP's number is written back only on what GP accepted
            invoice[columns.GP_DOCUMENT_NUMBER] = document_number(number, period)
        dataverse.upsert(
            columns.INVOICES, {"bs_invoicenumber": f"{number}-{period.replace('-', '')}-01-00"}, invoice
        )


def seed_billing_month(dataverse: DataverseClient, gp_folder: Path, period: str = DEFAULT_PERIOD) -> Planted:
    seed_gp(gp_folder, period)
    seed_dataverse(dataverse, period)
    quiet = tuple(document_number(site, period) for site, *_ in INVOICES if site not in DIFFERENCES)
    return Planted(
        period=period,
        sites=tuple(site.number for site in SITES),
        blockers=dict(BLOCKERS),
        differences={document_number(site, period): kind for site, kind in DIFFERENCES.items()},
        quiet_documents=quiet,
    )
