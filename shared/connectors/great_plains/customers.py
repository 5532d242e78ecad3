"""GP's customer master on each customer site: the name, address, e-mail and hold GP will bill with.

Billing readiness (issue 17) asks, before the first-of-month run, whether GP
has a customer for each site: PowerBill posts invoices with the site number as
``CUSTNMBR`` (DOMAIN.md §3 A), and the master-site sync joins
``vwGP_CUSTOMER_MSTR`` on ``SITE = CUSTNMBR`` (§4). Showing the card on the
site lets Account Managers see a missing or held customer in PowerBill, days
before GP would refuse the invoice.

The card is ``RM00101`` (``CUSTNAME``, ``ADDRESS1``/``2``, ``CITY``,
``STATE``, ``ZIP``, ``HOLD``) and the e-mail GP sends statements to is
``SY01200.EmailToAddress`` for the customer's primary address
(``Master_Type = 'CUS'``, PROTOCOLS.md §3.1 G2). Customers whose number is not
a site number (GP's own, keyed by hand) are skipped. A customer found in two
companies is taken from the first of ``GP_COMPANIES`` that holds it (TOWNE
first), which names it in ``bs_gpcompany``.

The five columns are hub-proposed (``proposed/billing.json``). Sites are only
updated, never created (``ConflictPolicy.UPDATE_ONLY``): a GP customer with no
``bs_customersite`` is reported ``not_found`` in the run's problems. A full
read each run; the engine's fingerprints keep an unchanged card from being
sent again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import Engine, Select, and_, column, select, table

from shared.connectors.dataverse.sink import ConflictPolicy, DataverseTarget
from shared.pipeline.stream import ReadWindow, Record, Row, Stream
from shared.sites import site_number
from shared.sql.engines import stream_rows

STREAM = "gp_customers"

SITE_NUMBER = "bs_sitenumber"
CUSTOMER_NAME = "bs_gpcustomername"
ADDRESS = "bs_gpaddress"
EMAIL = "bs_gpemail"
ON_HOLD = "bs_gponhold"
COMPANY = "bs_gpcompany"
TARGET = DataverseTarget(
    entity_set="bs_customersites", alternate_key=(SITE_NUMBER,), conflict_policy=ConflictPolicy.UPDATE_ONLY
)

_CUSTOMERS = table(
    "RM00101",
    *(column(name) for name in ("CUSTNMBR", "CUSTNAME", "ADRSCODE", "ADDRESS1", "ADDRESS2", "CITY")),
    *(column(name) for name in ("STATE", "ZIP", "HOLD")),
)
_INTERNET = table(
    "SY01200", column("Master_Type"), column("Master_ID"), column("ADRSCODE"), column("EmailToAddress")
)


def _read_customers() -> Select[Any]:
    card, internet = _CUSTOMERS.c, _INTERNET.c
    joined = _CUSTOMERS.outerjoin(
        _INTERNET,
        and_(
            internet.Master_Type == "CUS",
            internet.Master_ID == card.CUSTNMBR,
            internet.ADRSCODE == card.ADRSCODE,
        ),
    )
    return (
        select(
            card.CUSTNMBR.label("customer_number"),
            card.CUSTNAME.label("name"),
            card.ADDRESS1.label("address1"),
            card.ADDRESS2.label("address2"),
            card.CITY.label("city"),
            card.STATE.label("state"),
            card.ZIP.label("zip_code"),
            card.HOLD.label("on_hold"),
            internet.EmailToAddress.label("email"),
        )
        .select_from(joined)
        .order_by(card.CUSTNMBR)
    )


class GpCustomer(BaseModel):
    """One GP customer card, with the company it was read from."""

    model_config = ConfigDict(str_strip_whitespace=True)

    company: str
    customer_number: str
    name: str | None = None
    address1: str | None = None
    address2: str | None = None
    city: str | None = None
    state: str | None = None
    zip_code: str | None = None
    on_hold: bool = False
    email: str | None = None


def customer_address(customer: GpCustomer) -> str | None:
    """'street, city, state zip', as the master-site sync writes ``bs_address``; None without a street."""
    street = ", ".join(part for part in (customer.address1, customer.address2) if part)
    if not street:
        return None
    place = " ".join(part for part in (customer.state, customer.zip_code) if part)
    return ", ".join(part for part in (street, customer.city, place) if part)


def to_site_customer(customer: GpCustomer) -> Record | None:
    """The site's GP columns; None (skipped) for a customer whose number is not a site number."""
    number = site_number(customer.customer_number)
    if number is None:
        return None
    return {
        SITE_NUMBER: number,
        CUSTOMER_NAME: customer.name or None,
        ADDRESS: customer_address(customer),
        EMAIL: customer.email or None,
        ON_HOLD: customer.on_hold,
        COMPANY: customer.company,
    }


def read_customers(
    company_engine: Callable[[str], Engine], companies: Sequence[str], page_rows: int
) -> Iterator[Sequence[Row]]:
    """Every company's cards; a site already read from an earlier company is left out of later ones."""
    seen: set[str] = set()
    for company in companies:
        for page in stream_rows(company_engine(company), _read_customers(), page_rows):
            fresh = []
            for row in page:
                number = site_number(str(row["customer_number"] or "")) or str(row["customer_number"])
                if number not in seen:
                    seen.add(number)
                    fresh.append({**row, "company": company})
            yield fresh


def gp_customers_stream(
    company_engine: Callable[[str], Engine], companies: Sequence[str], page_rows: int = 5000
) -> Stream[GpCustomer]:
    """The ``gp_customers`` stream over ``companies``, each read through ``company_engine``."""
    chosen = tuple(companies)

    def read(_: ReadWindow) -> Iterator[Sequence[Row]]:
        return read_customers(company_engine, chosen, page_rows)

    return Stream(name=STREAM, model=GpCustomer, read=read, transform=to_site_customer, target=TARGET)
