"""Real US cities, brands and names the sandbox's sites and people are made of.

Cities carry real ZIP codes of their downtown (or medical district) and the
state's wage level, which scales Legion pay rates: a valet in San Francisco
earns more than one in Memphis. The region is the sandbox's own grouping into
Towne Park-style SVP regions (the real ones are not published).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class City:
    name: str
    state: str
    zips: tuple[str, ...]
    region: str


def _cities(region: str, *rows: tuple[str, str, tuple[str, ...]]) -> list[City]:
    return [City(name, state, zips, region) for name, state, zips in rows]


CITIES: tuple[City, ...] = tuple(
    _cities(
        "West",
        ("Los Angeles", "CA", ("90071", "90017", "90015")),
        ("San Francisco", "CA", ("94102", "94108", "94103")),
        ("San Diego", "CA", ("92101", "92103")),
        ("San Jose", "CA", ("95113", "95110")),
        ("Sacramento", "CA", ("95814",)),
        ("Santa Monica", "CA", ("90401",)),
        ("Seattle", "WA", ("98101", "98104")),
        ("Portland", "OR", ("97204", "97201")),
        ("Honolulu", "HI", ("96815", "96813")),
        ("Las Vegas", "NV", ("89109", "89101")),
        ("Salt Lake City", "UT", ("84101", "84111")),
    )
    + _cities(
        "Southwest",
        ("Phoenix", "AZ", ("85004", "85006")),
        ("Scottsdale", "AZ", ("85251",)),
        ("Tucson", "AZ", ("85701",)),
        ("Albuquerque", "NM", ("87102",)),
        ("Denver", "CO", ("80202", "80203", "80204")),
        ("Aurora", "CO", ("80045",)),
        ("Dallas", "TX", ("75201", "75202", "75390")),
        ("Fort Worth", "TX", ("76102", "76104")),
        ("Irving", "TX", ("75039",)),
        ("Houston", "TX", ("77002", "77030")),
        ("Austin", "TX", ("78701",)),
        ("San Antonio", "TX", ("78205",)),
        ("Oklahoma City", "OK", ("73102",)),
    )
    + _cities(
        "Central",
        ("Chicago", "IL", ("60601", "60611", "60654")),
        ("Minneapolis", "MN", ("55402", "55455")),
        ("Rochester", "MN", ("55902",)),
        ("St. Louis", "MO", ("63101", "63110")),
        ("Kansas City", "MO", ("64105",)),
        ("Omaha", "NE", ("68102",)),
        ("Indianapolis", "IN", ("46204", "46202")),
        ("Columbus", "OH", ("43215",)),
        ("Cleveland", "OH", ("44113", "44195")),
        ("Cincinnati", "OH", ("45202",)),
        ("Detroit", "MI", ("48226",)),
        ("Milwaukee", "WI", ("53202",)),
    )
    + _cities(
        "Southeast",
        ("Atlanta", "GA", ("30303", "30308", "30322")),
        ("Savannah", "GA", ("31401",)),
        ("Nashville", "TN", ("37203", "37201", "37232")),
        ("Memphis", "TN", ("38103",)),
        ("Birmingham", "AL", ("35203", "35233")),
        ("New Orleans", "LA", ("70130", "70112")),
        ("Miami", "FL", ("33131", "33132", "33136")),
        ("Miami Beach", "FL", ("33139",)),
        ("Fort Lauderdale", "FL", ("33301",)),
        ("Boca Raton", "FL", ("33432",)),
        ("Orlando", "FL", ("32819", "32801")),
        ("Tampa", "FL", ("33602",)),
        ("Jacksonville", "FL", ("32202",)),
        ("Charlotte", "NC", ("28202", "28204")),
        ("Raleigh", "NC", ("27601",)),
        ("Charleston", "SC", ("29401",)),
        ("Louisville", "KY", ("40202",)),
    )
    + _cities(
        "Northeast",
        ("New York", "NY", ("10019", "10036", "10017", "10065")),
        ("Buffalo", "NY", ("14202",)),
        ("Boston", "MA", ("02116", "02110", "02114")),
        ("Cambridge", "MA", ("02142",)),
        ("Providence", "RI", ("02903",)),
        ("Hartford", "CT", ("06103",)),
        ("Stamford", "CT", ("06901",)),
        ("Newark", "NJ", ("07102",)),
        ("Jersey City", "NJ", ("07310",)),
        ("Philadelphia", "PA", ("19103", "19107", "19104")),
        ("Pittsburgh", "PA", ("15222", "15213")),
    )
    + _cities(
        "Mid-Atlantic",
        ("Washington", "DC", ("20001", "20005", "20037")),
        ("Arlington", "VA", ("22202",)),
        ("Richmond", "VA", ("23219",)),
        ("Baltimore", "MD", ("21202", "21201", "21287")),
        ("Bethesda", "MD", ("20814",)),
    )
)

# How much more than the national base a state's hourly staff are paid (the sandbox's estimate).
WAGE_LEVEL = {
    "CA": 1.28,
    "WA": 1.25,
    "NY": 1.22,
    "MA": 1.2,
    "DC": 1.22,
    "HI": 1.15,
    "NJ": 1.15,
    "CT": 1.12,
    "OR": 1.12,
    "IL": 1.1,
    "CO": 1.12,
    "MN": 1.08,
    "MD": 1.1,
    "AZ": 1.05,
    "RI": 1.08,
}

HOTEL_BRANDS = (
    "Hyatt Regency",
    "Grand Hyatt",
    "Park Hyatt",
    "Andaz",
    "Hyatt Centric",
    "JW Marriott",
    "Marriott Marquis",
    "Renaissance",
    "The Westin",
    "Sheraton",
    "Le Meridien",
    "Hilton",
    "Conrad",
    "DoubleTree by Hilton",
    "Embassy Suites",
    "Hilton Garden Inn",
    "Four Seasons Hotel",
    "The Ritz-Carlton",
    "Kimpton",
    "Fairmont",
    "InterContinental",
    "Omni",
    "Loews",
    "Hotel Indigo",
    "Canopy by Hilton",
    "AC Hotel",
    "Courtyard",
)
HOTEL_AREAS = ("Downtown", "Airport", "Convention Center", "Tech Center", "Uptown", "Midtown", "Waterfront")
HEALTHCARE_NAMES = (
    "{city} Medical Center",
    "{city} Regional Medical Center",
    "{city} Children's Hospital",
    "St. Luke's Hospital {city}",
    "Baptist Health {city}",
    "{city} University Hospital",
    "Methodist Hospital {city}",
    "{city} Heart Institute",
    "Mercy Medical Center {city}",
    "{city} Cancer Center",
)
COMMERCIAL_NAMES = (
    "{city} Convention Center",
    "{city} Financial Center",
    "{street} Office Tower",
    "{city} Arena Garage",
    "{city} Place",
    "{city} Performing Arts Center",
)
STREETS = (
    "Main Street",
    "Market Street",
    "Broadway",
    "1st Avenue",
    "Park Avenue",
    "Washington Street",
    "Lake Street",
    "Commerce Street",
    "Convention Center Drive",
    "Center Street",
    "Congress Avenue",
    "Canal Street",
    "Michigan Avenue",
    "Grand Avenue",
    "Jefferson Street",
    "Madison Avenue",
    "Pine Street",
    "Elm Street",
    "Harbor Drive",
    "Medical Center Drive",
    "Peachtree Street",
    "Lincoln Boulevard",
    "Ocean Drive",
    "Hospital Drive",
)
FIRST_NAMES = (
    "James", "Maria", "Robert", "Jennifer", "Michael", "Linda", "David", "Patricia", "William",
    "Elizabeth", "Carlos", "Susan", "Joseph", "Jessica", "Thomas", "Sarah", "Daniel", "Karen",
    "Matthew", "Nancy", "Anthony", "Lisa", "Mark", "Ashley", "Luis", "Angela", "Steven", "Kimberly",
    "Andrew", "Emily", "Jose", "Michelle", "Kevin", "Amanda", "Brian", "Melissa", "George", "Laura",
    "Juan", "Rebecca", "Eric", "Sharon", "Jason", "Cynthia", "Ryan", "Stephanie", "Jacob", "Nicole",
    "Gary", "Rachel", "Nicholas", "Andrea", "Jonathan", "Denise", "Justin", "Tiffany", "Brandon",
    "Monica", "Marcus", "Alicia", "Darnell", "Keisha", "Tyrone", "Latoya", "Miguel", "Rosa", "Hector",
    "Ana", "Wei", "Mei", "Raj", "Priya", "Omar", "Fatima", "Samuel", "Grace", "Derek", "Vanessa",
)  # fmt: skip
LAST_NAMES = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez",
    "Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore",
    "Jackson", "Martin", "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez", "Clark", "Ramirez",
    "Lewis", "Robinson", "Walker", "Young", "Allen", "King", "Wright", "Scott", "Torres", "Nguyen",
    "Hill", "Flores", "Green", "Adams", "Nelson", "Baker", "Hall", "Rivera", "Campbell", "Mitchell",
    "Carter", "Roberts", "Phillips", "Evans", "Turner", "Diaz", "Parker", "Cruz", "Edwards", "Collins",
    "Reyes", "Stewart", "Morris", "Morales", "Murphy", "Cook", "Rogers", "Gutierrez", "Ortiz", "Morgan",
    "Cooper", "Peterson", "Bailey", "Reed", "Kelly", "Howard", "Ramos", "Kim", "Cox", "Ward", "Patel",
    "O'Brien", "Washington", "Okafor", "Chen", "Singh",
)  # fmt: skip
