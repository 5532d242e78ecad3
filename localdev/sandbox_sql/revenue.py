"""RSS revenue in the EDW: daily parking revenue by code and collection, and the datamart.

Each site parks cars in the categories its business has (hotels valet and
self-park overnight guests, hospitals sell self-park daily and monthly, office
towers monthly), at its own prices and city parking tax. RSS data exists for
the previous and the current month up to yesterday, the lag of the RSS
submissions (DOMAIN.md §4 "Refresh cadence"); the invoice datamart holds the
previous month, as submitted for invoicing. ``vwREVENUE_DAILY_DETAIL_INVOICE``
is the detail; ``REVENUE_DAILY_DETAIL`` and ``REVENUE_DATAMART_DAILY`` are its
sums, so every query agrees with the others.
"""

from __future__ import annotations

import random
import sqlite3
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from localdev.sandbox_sql.job_codes import COMMERCIAL, HEALTHCARE, HOTEL
from localdev.sandbox_sql.loading import Row, date_text, datetime_text, insert, qualified
from localdev.sandbox_sql.world import Site
from shared.sql.tables import (
    revenue_daily_detail,
    revenue_datamart_daily,
    revenue_datamart_daily_invoice,
    vw_revenue_daily_detail_invoice,
)

CASH_DEPOSIT = "Cash Deposits to Local TP Bank Account"  # DOMAIN.md §9: the deposit check's collection type
BELL_COLLECTIONS = ("Bell Gratuity", "Porterage", "Group Porterage", "Luggage Storage", "Bell Service Fee")
_CODES = {
    "Valet Daily": "VD",
    "Valet Overnight": "VO",
    "Valet Monthly": "VM",
    "Self Daily": "SD",
    "Self Overnight": "SO",
    "Self Monthly": "SM",
}
_KIND_CATEGORIES = {
    HOTEL: (("Valet Overnight", 1.0), ("Valet Daily", 0.9), ("Self Overnight", 0.6), ("Self Daily", 0.5)),
    HEALTHCARE: (("Self Daily", 1.0), ("Self Monthly", 0.8), ("Valet Daily", 0.5)),
    COMMERCIAL: (("Self Monthly", 1.0), ("Self Daily", 0.9), ("Valet Monthly", 0.2)),
}
_PRICES = {"Valet": (30.0, 65.0), "Self": (12.0, 40.0)}
_WEEKEND = {HOTEL: 1.15, HEALTHCARE: 0.55, COMMERCIAL: 0.35}
_DATAMART_COLUMNS = '("SITE", "DATE", "REVENUE_CATEGORY", "VALUE_TYPE", "VALUE", "DW_LOADED_DTTM")'
_INVOICE_COLUMNS = (
    "SITE",
    "DATE",
    "REVENUE_CATEGORY",
    "VEHICLECOUNT",
    "NETEXTERNALREVENUE",
    "REVENUE_CODE",
    "DEPOSIT_FLAG",
    "TAXRATE",
    "EXTERNALREVENUE",
    "BILLABLE_NET_VALIDATION",
    "COLLECTION_TYPE",
)


@dataclass(frozen=True)
class Parking:
    """One revenue category a site sells: a typical day's vehicles and the gross price of one."""

    category: str
    code: str  # REVENUE_CODE, e.g. 'VO1'
    vehicles: float
    price: float


@dataclass(frozen=True)
class SiteRevenue:
    parking: tuple[Parking, ...]
    occupancy: float  # hotels: the share of rooms occupied on a typical night
    bell_service: bool
    validations: bool
    per_man_hour: bool  # RSS reports a 'Per Man Hour' category (revenue share excludes it)


def site_revenue(rng: random.Random, site: Site) -> SiteRevenue:
    """What ``site`` sells and how much of it, on a typical day."""
    size = (site.rooms or site.parking // 2) / 400
    parking = []
    for category, chance in _KIND_CATEGORIES[site.kind]:
        if rng.random() < chance:
            low, high = _PRICES[category.split()[0]]
            monthly = category.endswith("Monthly")
            parking.append(
                Parking(
                    category,
                    f"{_CODES[category]}{rng.choice((1, 1, 2, 3))}",
                    max(2.0, rng.uniform(20, 140) * size * (0.3 if monthly else 1.0)),
                    round(rng.uniform(low, high) * (4 if monthly else 1) * site.wage_level, 2),
                )
            )
    return SiteRevenue(
        parking=tuple(parking),
        occupancy=rng.uniform(0.6, 0.88),
        bell_service=site.kind == HOTEL and rng.random() < 0.5,
        validations=site.kind != HOTEL and rng.random() < 0.6,
        per_man_hour=rng.random() < 0.05,
    )


def write_revenue(
    connection: sqlite3.Connection,
    rng: random.Random,
    revenue: Mapping[Site, SiteRevenue],
    end_date: date,
) -> None:
    """RSS days from the first of the previous month to the day before ``end_date``."""
    first_day = (end_date.replace(day=1) - timedelta(days=1)).replace(day=1)
    occupied: list[Row] = []
    day = first_day
    while day < end_date:
        rows: list[Row] = []
        for site, sells in revenue.items():
            if site.open_on(day):
                rows.extend(_site_day(rng, site, sells, day))
                if site.rooms:
                    rooms = round(site.rooms * min(1.0, sells.occupancy * rng.uniform(0.85, 1.15)))
                    occupied.append(
                        (site.number, date_text(day), "Occupied Rooms", "Other", rooms, _loaded(day))
                    )
        insert(connection, vw_revenue_daily_detail_invoice, _INVOICE_COLUMNS, rows)
        day += timedelta(days=1)
    _write_sums(connection, occupied, end_date.replace(day=1))


def _site_day(rng: random.Random, site: Site, sells: SiteRevenue, day: date) -> Iterator[Row]:
    weekend = _WEEKEND[site.kind] if day.weekday() >= 5 else 1.0
    on = date_text(day)
    tax = site.tax_rate
    for parking in sells.parking:
        vehicles = round(parking.vehicles * weekend * rng.uniform(0.75, 1.25))
        collections = (
            ("Credit Card", 0.7),
            ("Cash", 0.1),
            ("Room Charge" if site.kind == HOTEL else "Account", 0.2),
        )
        for collection, share in collections:
            count = round(vehicles * share)
            if count == 0:
                continue
            gross = round(count * parking.price, 2)
            deposited = site.deposits and collection == "Cash"
            yield (
                site.number,
                on,
                parking.category,
                count,
                round(gross / (1 + tax), 2),
                parking.code,
                "Y" if deposited else "N",
                tax,
                gross,
                0.0,
                CASH_DEPOSIT if deposited else collection,
            )
        if sells.validations and parking.category == "Self Daily":
            validated = round(vehicles * rng.uniform(0.05, 0.2))
            value = round(validated * parking.price * 0.5 / (1 + tax), 2)
            yield (
                site.number,
                on,
                parking.category,
                validated,
                0.0,
                parking.code,
                "V",
                tax,
                0.0,
                value,
                "Validation",
            )
    if sells.bell_service:
        for number, collection in enumerate(rng.sample(BELL_COLLECTIONS, 2), start=1):
            gross = round(rng.uniform(80, 900), 2)
            yield (
                site.number,
                on,
                "Other Revenue",
                0,
                gross,
                f"OR{number}",
                "N",
                0.0,
                gross,
                0.0,
                collection,
            )
    if sells.per_man_hour:
        gross = round(rng.uniform(300, 1500), 2)
        yield (site.number, on, "Per Man Hour", 0, gross, "PMH", "N", 0.0, gross, 0.0, "Invoice")


def _write_sums(connection: sqlite3.Connection, occupied: list[Row], month_start: date) -> None:
    """The daily sums and the datamart, from the detail; the invoice datamart is the closed month."""
    detail = qualified(vw_revenue_daily_detail_invoice)
    connection.execute(
        f"INSERT INTO {qualified(revenue_daily_detail)} "  # noqa: S608 - names from tables.py
        '("SITE", "DATE", "REVENUE_CATEGORY", "VEHICLECOUNT", "NETEXTERNALREVENUE") '
        'SELECT "SITE", "DATE", "REVENUE_CATEGORY", SUM("VEHICLECOUNT"), ROUND(SUM("NETEXTERNALREVENUE"), 2) '
        f'FROM {detail} WHERE "DEPOSIT_FLAG" <> \'V\' GROUP BY "SITE", "DATE", "REVENUE_CATEGORY"'
    )
    insert(
        connection,
        revenue_datamart_daily,
        ("SITE", "DATE", "REVENUE_CATEGORY", "VALUE_TYPE", "VALUE", "DW_LOADED_DTTM"),
        occupied,
    )
    daily = qualified(revenue_daily_detail)
    loaded = "datetime(\"DATE\", '+1 day', '+150 minutes') || '.000000'"  # the night after, as _loaded()
    for value_type, column in (("Vehicles", "VEHICLECOUNT"), ("Revenue", "NETEXTERNALREVENUE")):
        connection.execute(
            f"INSERT INTO {qualified(revenue_datamart_daily)} {_DATAMART_COLUMNS} "  # noqa: S608
            f'SELECT "SITE", "DATE", "REVENUE_CATEGORY", ?, "{column}", {loaded} FROM {daily}',
            (value_type,),
        )
    submitted = datetime_text(datetime.combine(month_start + timedelta(days=2), time(10)))
    connection.execute(
        f"INSERT INTO {qualified(revenue_datamart_daily_invoice)} {_DATAMART_COLUMNS} "  # noqa: S608
        'SELECT "SITE", "DATE", "REVENUE_CATEGORY", "VALUE_TYPE", "VALUE", ? '
        f'FROM {qualified(revenue_datamart_daily)} WHERE "DATE" < ?',
        (submitted, date_text(month_start)),
    )


def _loaded(day: date) -> str:
    """When the EDW loaded a day's RSS data: 02:30 the night after."""
    return datetime_text(datetime.combine(day + timedelta(days=1), time(2, 30)))
