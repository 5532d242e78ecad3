"""Legion's job codes (``TITLE`` / ``WORK_ROLE``) as the sandbox staffs sites with them.

GSA, GSC, CASH, LDGSC and SHUTL2 are Towne Park's own codes (DOMAIN.md §1); the
rest follow the same style for the other roles of hotel, healthcare and
commercial parking operations and are the sandbox's guesses. Base rates are
national hourly rates before the state's wage level.
"""

from __future__ import annotations

from dataclasses import dataclass

HOTEL = "Hospitality"
HEALTHCARE = "Healthcare"
COMMERCIAL = "Commercial"
ALL_KINDS = (HOTEL, HEALTHCARE, COMMERCIAL)


@dataclass(frozen=True)
class JobCode:
    code: str
    title: str
    base_rate: float
    kinds: tuple[str, ...]
    weight: int  # how many of a site's hourly staff hold it, relative to the site's other codes
    salaried: bool = False


JOB_CODES: tuple[JobCode, ...] = (
    JobCode("GSA", "Guest Service Attendant", 16.5, ALL_KINDS, 10),
    JobCode("GSC", "Guest Service Captain", 18.5, (HOTEL, HEALTHCARE), 4),
    JobCode("LDGSC", "Lead Guest Service Captain", 20.0, (HOTEL, HEALTHCARE), 2),
    JobCode("CASH", "Cashier", 16.0, ALL_KINDS, 5),
    JobCode("LDCASH", "Lead Cashier", 18.0, (HEALTHCARE, COMMERCIAL), 1),
    JobCode("VALET", "Valet Attendant", 15.5, (HOTEL, HEALTHCARE), 10),
    JobCode("LDVALET", "Lead Valet Attendant", 18.0, (HOTEL,), 2),
    JobCode("DOORMAN", "Doorman", 16.0, (HOTEL,), 3),
    JobCode("BELL", "Bell Attendant", 14.0, (HOTEL,), 6),
    JobCode("LDBELL", "Lead Bell Attendant", 16.0, (HOTEL,), 1),
    JobCode("BELLCPT", "Bell Captain", 17.0, (HOTEL,), 1),
    JobCode("CONCRG", "Concierge", 19.0, (HOTEL,), 1),
    JobCode("STARTER", "Valet Starter", 16.0, (HOTEL,), 2),
    JobCode("LOBBY", "Lobby Ambassador", 16.5, (HOTEL, HEALTHCARE), 3),
    JobCode("SHUTL1", "Shuttle Driver I", 17.0, ALL_KINDS, 3),
    JobCode("SHUTL2", "Shuttle Driver II", 18.5, (HOTEL, HEALTHCARE), 3),
    JobCode("SHUTLCDL", "Shuttle Driver CDL", 21.0, (HEALTHCARE,), 2),
    JobCode("DISP", "Dispatcher", 18.0, (HEALTHCARE,), 1),
    JobCode("PTRANS", "Patient Transporter", 17.5, (HEALTHCARE,), 4),
    JobCode("WAYFND", "Wayfinding Ambassador", 16.0, (HEALTHCARE,), 3),
    JobCode("CSR", "Customer Service Representative", 17.0, (HEALTHCARE, COMMERCIAL), 3),
    JobCode("PATROL", "Parking Patrol Officer", 17.5, (COMMERCIAL,), 3),
    JobCode("ENFORCE", "Parking Enforcement Officer", 17.0, (COMMERCIAL, HEALTHCARE), 2),
    JobCode("MAINT", "Maintenance Technician", 20.0, (COMMERCIAL,), 1),
    JobCode("PORTER", "Porter", 15.0, (HOTEL, COMMERCIAL), 2),
    JobCode("TRAINER", "Field Trainer", 19.5, ALL_KINDS, 1),
    JobCode("ADMIN", "Office Administrator", 19.0, (HEALTHCARE, COMMERCIAL), 1),
    JobCode("SUPV", "Supervisor", 21.0, ALL_KINDS, 0),
    JobCode("ASTMGR", "Assistant Manager", 24.0, ALL_KINDS, 0, salaried=True),
    JobCode("MGR", "Manager", 30.0, ALL_KINDS, 0, salaried=True),
)
BY_CODE = {job.code: job for job in JOB_CODES}

# Budget job profiles that are not the Legion code (DOMAIN.md §5: mapping falls back to the closest code).
BUDGET_PROFILE_ALIASES = {
    "SHUTL2": "SHUTL",
    "CASH": "CASHIER",
    "GSA": "GSA1",
    "VALET": "VALETATT",
    "LDGSC": "LEADGSC",
    "PTRANS": "TRANSPORT",
}
