"""The sandbox's Towne Park: sites, districts, regions and the managers Workday knows.

Everything else (Legion staff, budgets, revenue) is made from this world, so
the tables agree with each other the way Towne Park's do: the account manager
in ``WORKDAY_SITE_MANAGERS`` is the one with access in
``WORKDAY_RLS_BISECURITY``, a site's GL string carries its district, and so on.
It also carries the production defects the syncs must handle: ~10% of sites
stored unpadded ('170') in Legion and in Workday, a few master rows without a
street or city, some sites without a billing email or account manager.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date, timedelta

from localdev.sandbox_sql.job_codes import COMMERCIAL, HEALTHCARE, HOTEL
from localdev.sandbox_sql.places import (
    CITIES,
    COMMERCIAL_NAMES,
    FIRST_NAMES,
    HEALTHCARE_NAMES,
    HOTEL_AREAS,
    HOTEL_BRANDS,
    LAST_NAMES,
    STREETS,
    WAGE_LEVEL,
    City,
)

SITES_PER_DISTRICT = 11
# GP company (first two characters of the GL string, DOMAIN.md §3) and its legal entity (inferred).
COMPANIES = {"02": "Towne Park, LLC", "07": "ENC", "22": "UPP"}
DM_PROFILES = ("DISTMGR", "DISTMGR", "DISTMGR", "SRDISTMGR", "AREAMGR")
AM_PROFILES = ("ACCTMGR",) * 13 + ("SRACCTMGR",) * 3 + ("DOO", "ASOPSMGR", "TRANSMGR")
# Workday profiles that give no site access (DOMAIN.md §2): each with its corporate cost center.
NO_ACCESS_PROFILES = (("RVP", "A100"), ("HRBP", "A210"), ("PAYROLLADM", "B100"), ("FINANALYST", "A300"))
CONTRACT_TYPES = (
    "Fixed Fee",
    "Per Labor Hour",
    "Per Labor Hour",
    "Per Occupied Room",
    "Revenue Share",
    "Management Agreement",
    "Fixed Fee, Per Labor Hour",
    "Revenue Share, Per Labor Hour",
)


@dataclass(frozen=True)
class Person:
    """Someone Workday knows: an employee id and a work email that is also their Power Platform login."""

    employee_id: str
    first_name: str
    last_name: str
    email: str

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


@dataclass(frozen=True)
class District:
    number: int
    region: str
    manager: Person
    manager_profile: str

    @property
    def name(self) -> str:
        return f"District {self.number:02d}"

    @property
    def cost_center(self) -> str:
        """The district's overhead cost center (P4 = district overhead, DOMAIN.md §4)."""
        return f"P4{self.number:02d}"


@dataclass(frozen=True)
class Site:
    """A cost center 0001-8999 with its master data, as the EDW knows it."""

    number: str  # '0170', as MASTER_NON_FINANCIAL and GP store it
    legion_id: str  # as Legion stores it: '170' for some sites
    workday_id: str  # as the Workday exports store it: '170' for some sites
    name: str
    kind: str
    street: str | None
    city: str | None
    place: City
    zip: str
    company: str
    district: District
    contract_type: str
    deposits: bool
    first_worked: date
    last_worked: date | None
    rooms: int | None
    parking: int
    overnight: bool  # runs night shifts, so timesheets have *_NEXT_DAY minutes
    tax_rate: float
    billing_email: str | None

    @property
    def gl_string(self) -> str:
        """'02-03-2106-': company, region, district; the main account and site follow (DOMAIN.md §3)."""
        region = _REGIONS.index(self.district.region) + 1
        return f"{self.company}-{region:02d}-{2100 + self.district.number:04d}-"

    @property
    def wage_level(self) -> float:
        return WAGE_LEVEL.get(self.place.state, 1.0)

    def open_on(self, day: date) -> bool:
        return self.first_worked <= day and (self.last_worked is None or day <= self.last_worked)


@dataclass(frozen=True)
class AccountManager:
    person: Person
    profile: str
    sites: tuple[Site, ...]


@dataclass(frozen=True)
class World:
    sites: tuple[Site, ...]
    districts: tuple[District, ...]
    account_managers: tuple[AccountManager, ...]
    corporate_users: tuple[tuple[Person, str, str], ...]  # person, job profile, cost center
    site_managers: dict[str, AccountManager]  # each site's account manager, by site number


_REGIONS = tuple(dict.fromkeys(city.region for city in CITIES))


class People:
    """Hands out people with unique Workday employee ids and unique work emails."""

    def __init__(self, rng: random.Random, first_id: int) -> None:
        self._rng = rng
        self._next_id = first_id
        self._emails: set[str] = set()

    def new(self) -> Person:
        first, last = self._rng.choice(FIRST_NAMES), self._rng.choice(LAST_NAMES)
        local = f"{first}.{last}".lower().replace("'", "")
        email, suffix = f"{local}@townepark.com", 1
        while email in self._emails:
            suffix += 1
            email = f"{local}{suffix}@townepark.com"
        self._emails.add(email)
        self._next_id += self._rng.randint(1, 40)
        return Person(str(self._next_id), first, last, email)


def make_world(rng: random.Random, site_count: int, end_date: date) -> World:
    """A deterministic world of ``site_count`` sites, about 11 to a district, grouped by region."""
    people = People(rng, 100_000)
    numbers = _site_numbers(rng, site_count)
    legion_unpadded = _unpadded(rng, numbers)
    workday_unpadded = _unpadded(rng, numbers)
    rng.shuffle(numbers)  # old, low-numbered sites are all over the country
    places = sorted(
        (rng.choice(CITIES) for _ in numbers), key=lambda city: (_REGIONS.index(city.region), city.name)
    )
    districts: list[District] = []
    sites: list[Site] = []
    names: set[str] = set()
    for start in range(0, site_count, SITES_PER_DISTRICT):
        region = places[start].region
        district = District(len(districts) + 1, region, people.new(), rng.choice(DM_PROFILES))
        districts.append(district)
        for index in range(start, min(start + SITES_PER_DISTRICT, site_count)):
            number = numbers[index]
            ids = (
                number,
                number.lstrip("0") if number in legion_unpadded else number,
                number.lstrip("0") if number in workday_unpadded else number,
            )
            sites.append(_site(rng, ids, places[index], district, names=names, end_date=end_date))
    sites = _blank_some_addresses(rng, sites)
    managers = _account_managers(rng, people, sites)
    sites.sort(key=lambda site: site.number)
    corporate = tuple(
        (people.new(), *rng.choice(NO_ACCESS_PROFILES)) for _ in range(max(2, site_count // 25))
    )
    by_site = {manager.sites[0].number: manager for manager in managers if manager.profile != "ASSOCM"}
    for manager in managers:
        for site in manager.sites[1:]:
            by_site.setdefault(site.number, manager)
    return World(tuple(sites), tuple(districts), tuple(managers), corporate, by_site)


def _site_numbers(rng: random.Random, count: int) -> list[str]:
    """Unique cost centers in 0001-8999; a quarter of them below 1000, where padding matters."""
    low = round(count * 0.25)
    numbers = rng.sample(range(1, 1000), low) + rng.sample(range(1000, 9000), count - low)
    return [f"{number:04d}" for number in sorted(numbers)]


def _unpadded(rng: random.Random, numbers: list[str]) -> set[str]:
    """About 10% of all sites: those with a leading zero that a source stored as a number."""
    leading_zero = [number for number in numbers if number.startswith("0")]
    return set(rng.sample(leading_zero, round(len(leading_zero) * 0.4)))


def _site(
    rng: random.Random,
    ids: tuple[str, str, str],
    place: City,
    district: District,
    *,
    names: set[str],
    end_date: date,
) -> Site:
    """One site; ``ids`` is its number as the EDW, Legion and Workday store it."""
    number, legion_id, workday_id = ids
    kind = rng.choices((HOTEL, HEALTHCARE, COMMERCIAL), (70, 20, 10))[0]
    street = f"{rng.randint(1, 2400)} {rng.choice(STREETS)}"
    name = _unique_name(rng, kind, place, street, names)
    first_worked = end_date - timedelta(days=rng.randint(400, 9000))
    closed = rng.random() < 0.02
    return Site(
        number=number,
        legion_id=legion_id,
        workday_id=workday_id,
        name=name,
        kind=kind,
        street=street,
        city=place.name,
        place=place,
        zip=rng.choice(place.zips),
        company=rng.choices(tuple(COMPANIES), (85, 8, 7))[0],
        district=district,
        contract_type=rng.choice(CONTRACT_TYPES),
        deposits=rng.random() < 0.3,
        first_worked=first_worked,
        last_worked=end_date - timedelta(days=rng.randint(120, 360)) if closed else None,
        rooms=rng.randrange(120, 1600, 5) if kind == HOTEL else None,
        parking=rng.randrange(80, 3000, 10),
        overnight=rng.random() < (0.35 if kind == HOTEL else 0.25),
        tax_rate=rng.choice((0.0, 0.0, 0.06, 0.08, 0.1025, 0.15, 0.2, 0.225)),
        billing_email=_billing_email(rng, name),
    )


def _unique_name(rng: random.Random, kind: str, place: City, street: str, names: set[str]) -> str:
    for name in _name_candidates(rng, kind, place, street):
        if name not in names:
            names.add(name)
            return name
    raise AssertionError("the candidates end with a numbered name that is always free")


def _name_candidates(rng: random.Random, kind: str, place: City, street: str) -> Iterator[str]:
    if kind == HOTEL:
        brand = rng.choice(HOTEL_BRANDS)
        yield f"{brand} {place.name}"
        yield from (f"{brand} {place.name} {area}" for area in rng.sample(HOTEL_AREAS, len(HOTEL_AREAS)))
    else:
        patterns = HEALTHCARE_NAMES if kind == HEALTHCARE else COMMERCIAL_NAMES
        yield from (
            pattern.format(city=place.name, street=street) for pattern in rng.sample(patterns, len(patterns))
        )
    number = 2
    while True:
        yield f"{place.name} {kind} Site {number}"
        number += 1


def _billing_email(rng: random.Random, name: str) -> str | None:
    """Most sites bill to an address at the client; some have a blank or no GP email (DOMAIN.md §4)."""
    draw = rng.random()
    if draw < 0.06:
        return ""
    if draw < 0.1:
        return None
    # The reserved .example domain: nothing a local run sends can reach a real client.
    domain = "".join(character for character in name.lower() if character.isalnum())[:24] + ".example"
    if draw < 0.3:
        return f"accountspayable@{domain}; parking@{domain}"
    return f"accountspayable@{domain}"


def _blank_some_addresses(rng: random.Random, sites: list[Site]) -> list[Site]:
    """A few master rows miss the street or the city; the master-site sync skips them."""
    chosen = rng.sample(range(len(sites)), min(len(sites), max(2, len(sites) // 60)))
    for position, index in enumerate(chosen):
        site = sites[index]
        sites[index] = replace(site, street=None) if position % 2 == 0 else replace(site, city=None)
    return sites


def _account_managers(rng: random.Random, people: People, sites: list[Site]) -> list[AccountManager]:
    """One account manager per site (a few cover two neighbouring sites), associates at a quarter."""
    managers: list[AccountManager] = []
    index = 0
    while index < len(sites):
        site = sites[index]
        covers: tuple[Site, ...] = (site,)
        following = sites[index + 1] if index + 1 < len(sites) else None
        if following is not None and following.district == site.district and rng.random() < 0.08:
            covers = (site, following)
        managers.append(AccountManager(people.new(), rng.choice(AM_PROFILES), covers))
        managers.extend(
            AccountManager(people.new(), "ASSOCM", (covered,)) for covered in covers if rng.random() < 0.25
        )
        index += len(covers)
    return managers
