"""A realistic pipeline for the sandbox org, the same for the same seed.

Accounts are hotel groups, hospitals and property managers; each has a
contact or two; leads come from web forms, trade shows and referrals;
opportunities spread over Salesforce's default stages with their default
probabilities, close dates from last quarter to next year, and the site
fields a parking operator's sale carries (property, rooms, spaces, contract
type, region, expected opening). Every record was last changed at some moment
of the last 60 days, as in an org that has been in use. Closed Won opportunities name site numbers
from 8900 up, which the sandbox EDW rarely holds yet: a test or ``make run``
adds them to ``MASTER_NON_FINANCIAL`` to play the site opening.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from typing import Any

from localdev.sandbox.salesforce.org import STAGE_PROBABILITY, SalesforceOrg
from localdev.sandbox_sql.places import CITIES, FIRST_NAMES, LAST_NAMES

FIRST_PROFORMA_SITE = 8900
REGIONS = ("East", "Central", "West", "South")
CONTRACT_TYPES = ("Management Agreement", "Revenue Share", "Fixed Fee", "Per Labor Hour")
_BRANDS = ("Marriott", "Hilton", "Hyatt", "Omni", "Kimpton", "Westin", "Loews", "Four Seasons")
_HEALTH = ("Regional Medical Center", "Children's Hospital", "University Health", "Memorial Hospital")
_SOURCES = ("Web", "Trade Show", "Referral", "Partner", "Phone Inquiry")
_LEAD_STATUSES = (
    "Open - Not Contacted",
    "Working - Contacted",
    "Closed - Converted",
    "Closed - Not Converted",
)


def seed_pipeline(
    org: SalesforceOrg, *, accounts: int = 120, leads: int = 300, opportunities: int = 300, seed: int = 18
) -> dict[str, int]:
    """Create the pipeline in ``org``; answers how many records of each object it made."""
    rng = random.Random(seed)
    now = datetime.now(UTC)
    today = now.date()

    def create(name: str, values: dict[str, Any]) -> str:
        stamp = (now - timedelta(seconds=rng.randint(60, 60 * 86400))).isoformat()
        return org.create(name, {**values, "CreatedDate": stamp, "SystemModstamp": stamp}, system=True)

    account_ids: list[str] = []
    contacts = 0
    for _ in range(accounts):
        city = rng.choice(CITIES)
        name = (
            f"{rng.choice(_BRANDS)} {city.name}"
            if rng.random() < 0.7
            else f"{city.name} {rng.choice(_HEALTH)}"
        )
        account_id = create(
            "Account",
            {
                "Name": name,
                "Type": "Prospect",
                "Industry": "Hospitality" if rng.random() < 0.7 else "Healthcare",
                "BillingCity": city.name,
                "BillingState": city.state,
                "OwnerId": _owner(rng),
            },
        )
        account_ids.append(account_id)
        for _ in range(rng.choice((1, 1, 2))):
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            create(
                "Contact",
                {
                    "AccountId": account_id,
                    "FirstName": first,
                    "LastName": last,
                    "Title": "Director of Operations",
                    "Email": f"{first}.{last}@{_domain(name)}".lower(),
                    "Phone": _phone(rng),
                    "OwnerId": _owner(rng),
                },
            )
            contacts += 1
    for _ in range(leads):
        first, last, city = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES), rng.choice(CITIES)
        company = f"{rng.choice(_BRANDS)} {city.name}"
        create(
            "Lead",
            {
                "FirstName": first,
                "LastName": last,
                "Company": company,
                "Email": f"{first}.{last}@{_domain(company)}".lower(),
                "Phone": _phone(rng),
                "Status": rng.choice(_LEAD_STATUSES),
                "LeadSource": rng.choice(_SOURCES),
                "OwnerId": _owner(rng),
            },
        )
    stages = list(STAGE_PROBABILITY)
    won = 0
    for number in range(opportunities):
        stage = rng.choices(stages, weights=(14, 12, 12, 10, 8, 8, 10, 8, 10, 8))[0]
        account = rng.choice(account_ids)
        city = rng.choice(CITIES)
        values: dict[str, Any] = {
            "Name": f"{rng.choice(_BRANDS)} {city.name} parking",
            "AccountId": account,
            "StageName": stage,
            "Amount": float(rng.randrange(60, 2400) * 500),
            "CloseDate": (today + timedelta(days=rng.randint(-90, 365))).isoformat(),
            "OwnerId": _owner(rng),
            "Region__c": rng.choice(REGIONS),
            "Property_Name__c": f"{rng.choice(_BRANDS)} {city.name}",
            "Rooms__c": rng.randrange(120, 900),
            "Parking_Spaces__c": rng.randrange(80, 1500),
            "Contract_Type__c": rng.choice(CONTRACT_TYPES),
            "Expected_Opening__c": _month_start(today + timedelta(days=rng.randint(30, 420))).isoformat(),
        }
        if stage == "Closed Won":
            values["Site_Number__c"] = f"{FIRST_PROFORMA_SITE + won:04d}"
            won += 1
        elif stage != "Closed Lost" and rng.random() < 0.2:
            values["Site_Number__c"] = f"{8600 + number % 300:04d}"
        create("Opportunity", values)
    return {
        "Account": accounts,
        "Contact": contacts,
        "Lead": leads,
        "Opportunity": opportunities,
        "ClosedWon": won,
    }


def _owner(rng: random.Random) -> str:
    return f"005Hb{rng.randrange(1, 12):010d}AAA"


def _phone(rng: random.Random) -> str:
    return f"({rng.randrange(201, 989)}) 555-{rng.randrange(0, 10000):04d}"


def _domain(company: str) -> str:
    return "".join(ch for ch in company.lower() if ch.isalnum())[:20] + ".example.com"


def _month_start(day: date) -> date:
    return day.replace(day=1)
