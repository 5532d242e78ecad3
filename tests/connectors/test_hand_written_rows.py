"""The syncs against a handful of source rows written here from DOMAIN.md, and the Dataverse rows expected of them.

Nothing in this file comes from the sandbox's generator: the source rows and
the expected rows are both written by hand, from the rules (role rules of §2,
wage-rate arithmetic of §1, the budget split of §5 and §7, the master-site
fields of §4), so the syncs are checked against the rules, not against
themselves.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import Table, insert

from localdev.sandbox_sql import sandbox_url
from shared.connectors.legion.wage_rates import DifferentialPay, average_hourly_rate
from shared.connectors.workday.roles import Role, role_of
from shared.pipeline.requests import SyncRequest
from shared.pipeline.run_record import RunMode
from shared.sql.engines import sql_server_engine
from shared.sql.tables import (
    budget_final,
    master_non_financial,
    metadata,
    shift_entity,
    vw_gp_customer_mstr,
    vw_payroll_summary,
    workday_rls_bisecurity,
    workday_site_managers,
    workday_site_salaries,
)
from tests.connectors.conftest import EVERY_STREAM, Hub, dataverse_rows
from tests.fixtures.dataverse_sandbox import DataverseSandbox

TODAY = date(2026, 11, 28)  # wage rates read 14-27 November, job codes 31 October - 27 November


def _master(site: str, name: str, street: str | None, **overrides: Any) -> dict[str, Any]:
    row = {
        "SITE": site,
        "SITE_NAME": name,
        "DISTRICT": "District 01",
        "DM": "Dana Mills",
        "STREET_ADDRESS": street,
        "CITY": "Austin",
        "STATE": "TX",
        "ZIP": "78701",
        "GL_STRING": "02-03-2106-",
        "TP_DEPOSITS": "N",
        "P_CONTRACT_TYPE": "Per Labor Hour",
        "FIRST_WORKED_DATE": date(2019, 4, 1),
        "LAST_WORKED_DATE": None,
        "SVP_REGION": "South",
        "LEGAL_ENTITY": "Towne Park, LLC",
        "PL_CATEGORY": "Service Agreement",
        "COG_SEGMENT": "Luxury",
        "BUSINESS_SEGMENT": "Hospitality",
        "TOTAL_ROOMS_AVAILABLE": 400,
        "TOTAL_AVAILABLE_PARKING": 250,
        "CountSite": 1,
    }
    row.update(overrides)
    return row


def _pay(site: str, day: int, title: str, pay_type: str, hours: float, dollars: float) -> dict[str, Any]:
    return {
        "WORK_LOCATION": site,
        "DATE": date(2026, 11, day),
        "TITLE": title,
        "PAY_TYPE": pay_type,
        "TOTAL_HOURS": hours,
        "TOTAL_DOLLARS": dollars,
    }


def _shift(site: str, role: str, employee: str, day: date, deleted: str = "No") -> dict[str, Any]:
    return {
        "LOCATION_EXTERNAL_ID": site,
        "WORK_ROLE": role,
        "EMPLOYEE_EXTERNAL_ID": employee,
        "YEAR": day.year,
        "DAY_OF_THE_YEAR": day.timetuple().tm_yday,
        "REGULAR_MINUTES": 480,
        "OVERTIME_MINUTES": 0,
        "DOUBLE_OVERTIME_MINUTES": 0,
        "DELETED": deleted,
    }


def _budget(cost_center: str, period: str, account: str, balance: float) -> dict[str, Any]:
    return {"COST_CENTER": cost_center, "PERIOD": period, "MAIN_ACCOUNT": account, "BALANCE": balance}


SOURCE: dict[Table, list[dict[str, Any]]] = {
    master_non_financial: [
        _master("0170", "Hotel Austin Downtown", "1 Congress Ave", TP_DEPOSITS="Y"),
        _master("2106", "No Street Garage", None),  # no street: today's sync leaves it out, so does the hub
        _master("0338", "Austin Medical Center", "900 Red River St", LAST_WORKED_DATE=date(2026, 6, 30)),
    ],
    vw_gp_customer_mstr: [
        {"CUSTNMBR": "0170", "EMAIL_RECIPIENT": "ap@hotelaustin.example"},
        {"CUSTNMBR": "0338", "EMAIL_RECIPIENT": "  "},  # blank: no billing contact
    ],
    workday_site_managers: [  # Workday stores this site unpadded
        {
            "SITE": "170",
            "ACCT_MGR_EMPLOYEE_ID": "100200",
            "ACCT_MGR_FIRST_NAME": "Ann",
            "ACCT_MGR_LAST_NAME": "Lee",
        }
    ],
    workday_rls_bisecurity: [
        {"USER_ID": "Ann.Lee@TownePark.com", "JOB_PROFILE": "ACCTMGR", "COST_CENTER": "170", "SITE": None},
        {
            "USER_ID": "dana.mills@townepark.com",
            "JOB_PROFILE": "DISTMGR",
            "COST_CENTER": "P401",
            "SITE": "170",
        },
        {
            "USER_ID": "dana.mills@townepark.com",
            "JOB_PROFILE": "DISTMGR",
            "COST_CENTER": "P401",
            "SITE": "0338",
        },
        {"USER_ID": "sam.roe@townepark.com", "JOB_PROFILE": "RVP", "COST_CENTER": "A100", "SITE": None},
        # An account manager whose cost center is the district's: no site to grant, so quarantined.
        {"USER_ID": "pat.kim@townepark.com", "JOB_PROFILE": "SRACCTMGR", "COST_CENTER": "P401", "SITE": None},
    ],
    workday_site_salaries: [
        {"COST_CENTER": "170", "FULL_LEGAL_NAME": "Ann Lee", "EMAIL_PRIMARY_WORK": "ann.lee@townepark.com"},
        {
            "COST_CENTER": "P401",
            "FULL_LEGAL_NAME": "Dana Mills",
            "EMAIL_PRIMARY_WORK": "dana.mills@townepark.com",
        },
    ],
    vw_payroll_summary: [
        _pay("170", 20, "GSA", "REGULAR", 8, 160),
        _pay("170", 20, "GSA", "OVERTIME", 2, 60),
        _pay("170", 21, "GSA", "DIFFERENTIAL", 8, 8),
        _pay("170", 21, "GSA", "MEAL PREMIUM", 1, 20),
        _pay("170", 13, "GSA", "REGULAR", 8, 999),  # the day before the 14-day window
        _pay("0170", 22, "GSA", "REGULAR", 10, 200),  # the same site, padded: one rate
        _pay("0338", 25, "CASH", "REGULAR", 0, 50),  # dollars, no hours: rate 0
        _pay("0338", 26, "VALET", "DIFFERENTIAL", 4, 6),  # only differential hours: rate 0
        _pay("", 26, "GSA", "REGULAR", 8, 100),  # blank location: left out
        _pay("0338", 26, " ", "REGULAR", 8, 100),  # blank title: left out
        _pay("P401", 26, "GSA", "REGULAR", 8, 100),  # not a site: quarantined
    ],
    shift_entity: [
        _shift("170", "GSA", "E1", date(2026, 11, 20)),
        _shift("0170", "GSA", "E2", date(2026, 11, 1)),
        _shift("170", "GSA", "E3", date(2026, 11, 21), deleted="Yes"),
        _shift("0338", "CASH", "E4", date(2026, 11, 25)),
        _shift("0338", "MGR", "E5", date(2026, 11, 27)),
        _shift("0338", "VALET", "E6", date(2026, 11, 28)),  # scheduled for today: outside the window
        _shift("0338", "CONCRG", "E7", date(2026, 10, 30)),  # before the window
    ],
    budget_final: [
        _budget("0170", "202611", "6005", 1000),
        _budget("0170", "202611", "6010", 50),  # payroll accrual: not billable
        _budget("0170", "202611", "6199", 10),
        _budget("0170", "202611", "6200", 300),  # PTEB: neither payroll nor other expense
        _budget("0170", "202611", "7010", 200),
        _budget("0170", "202611", "7016", 99),  # corporate allocation: not billable
        _budget("0170", "202611", "7999", 1),
        _budget("0170", "202611", "4020", -5000),  # internal revenue, stored negative
        _budget("0170", "202611", "4790", -250),
        _budget("0170", "202611", "9410", 12345),  # a statistic account
        _budget("170", "202611", "6005", 500),  # the same site, unpadded
        _budget("0338", "202612", "7020", 40),
        _budget("P401", "202611", "6005", 100),  # district overhead: not a site
    ],
}

EXPECTED_MASTER = {
    ("0170",): {
        "bs_sitenumber": "0170",
        "bs_sitename": "Hotel Austin Downtown",
        "bs_address": "1 Congress Ave, Austin, TX 78701",
        "bs_deposits": True,
        "bs_glstring": "02-03-2106-",
        "bs_accountmanager": "Ann Lee",
        "bs_accountmanagerid": "100200",
        "bs_billingcontactemail": "ap@hotelaustin.example",
        "bs_contracttypestring": "Per Labor Hour",
        "bs_district": "District 01",
        "bs_districtmanager": "Dana Mills",
        "bs_startdate": "2019-04-01",
        "bs_closedate": None,
        "bs_svpregion": "South",
        "bs_legalentity": "Towne Park, LLC",
        "bs_plcategory": "Service Agreement",
        "bs_cogsegment": "Luxury",
        "bs_businesssegment": "Hospitality",
    },
    ("0338",): {
        "bs_sitenumber": "0338",
        "bs_sitename": "Austin Medical Center",
        "bs_address": "900 Red River St, Austin, TX 78701",
        "bs_deposits": False,
        "bs_glstring": "02-03-2106-",
        "bs_accountmanager": None,
        "bs_accountmanagerid": None,
        "bs_billingcontactemail": None,
        "bs_contracttypestring": "Per Labor Hour",
        "bs_district": "District 01",
        "bs_districtmanager": "Dana Mills",
        "bs_startdate": "2019-04-01",
        "bs_closedate": "2026-06-30",
        "bs_svpregion": "South",
        "bs_legalentity": "Towne Park, LLC",
        "bs_plcategory": "Service Agreement",
        "bs_cogsegment": "Luxury",
        "bs_businesssegment": "Hospitality",
    },
}
EXPECTED_USERS = {
    ("ann.lee@townepark.com",): {
        "bs_email": "ann.lee@townepark.com",
        "bs_firstname": "Ann",
        "bs_lastname": "Lee",
        "bs_roles": "accountmanager",
    },
    ("dana.mills@townepark.com",): {
        "bs_email": "dana.mills@townepark.com",
        "bs_firstname": "Dana",
        "bs_lastname": "Mills",
        "bs_roles": "districtmanager",
    },
    ("pat.kim@townepark.com",): {
        "bs_email": "pat.kim@townepark.com",
        "bs_firstname": None,
        "bs_lastname": None,
        "bs_roles": "accountmanager",
    },
    ("sam.roe@townepark.com",): {
        "bs_email": "sam.roe@townepark.com",
        "bs_firstname": None,
        "bs_lastname": None,
        "bs_roles": "",
    },
}
EXPECTED_ACCESS = {
    ("ann.lee@townepark.com", "0170"): {"bs_email": "ann.lee@townepark.com", "bs_sitenumber": "0170"},
    ("dana.mills@townepark.com", "0170"): {"bs_email": "dana.mills@townepark.com", "bs_sitenumber": "0170"},
    ("dana.mills@townepark.com", "0338"): {"bs_email": "dana.mills@townepark.com", "bs_sitenumber": "0338"},
}
EXPECTED_JOB_CODES = {(code,): {"bs_jobcode": code, "bs_jobtitle": code} for code in ("CASH", "GSA", "MGR")}
# GSA at 0170: hours 8 + 2 + 10 = 20 (differential and meal premium hours left out);
# dollars 160 + 60 + 8 + 20 + 200 = 448 (theirs counted): 22.40 an hour.
EXPECTED_JOB_CODES_BY_SITE = {
    ("0170", "GSA"): {
        "bs_sitenumber": "0170",
        "bs_jobcode": "GSA",
        "bs_averagehourlyrate": 22.4,
        "bs_activeemployeecount": 2,
    },
    ("0338", "CASH"): {
        "bs_sitenumber": "0338",
        "bs_jobcode": "CASH",
        "bs_averagehourlyrate": 0.0,
        "bs_activeemployeecount": 1,
    },
    ("0338", "MGR"): {"bs_sitenumber": "0338", "bs_jobcode": "MGR", "bs_activeemployeecount": 1},
    ("0338", "VALET"): {"bs_sitenumber": "0338", "bs_jobcode": "VALET", "bs_averagehourlyrate": 0.0},
}
EXPECTED_BUDGETS = {
    ("0170", "202611"): {
        "bs_siteid": "0170",
        "bs_period": "202611",
        "bs_payrollexpensebudget": 1510.0,
        "bs_otherexpensebudget": 201.0,
        "bs_billableexpensebudget": 1711.0,
        "bs_internalrevenuebudget": 5250.0,
    },
    ("0338", "202612"): {
        "bs_siteid": "0338",
        "bs_period": "202612",
        "bs_payrollexpensebudget": 0.0,
        "bs_otherexpensebudget": 40.0,
        "bs_billableexpensebudget": 40.0,
        "bs_internalrevenuebudget": 0.0,
    },
}


@pytest.fixture
def hand_written_sql(tmp_path: Path) -> Path:
    folder = tmp_path / "hand-written"
    folder.mkdir()
    engine = sql_server_engine(sandbox_url(folder), None, 60)
    metadata.create_all(engine)
    with engine.begin() as connection:
        for table, rows in SOURCE.items():
            connection.execute(insert(table), rows)
    engine.dispose()
    return folder


pytestmark = pytest.mark.services


def test_hand_written_rows_give_the_hand_written_dataverse_rows(
    hand_written_sql: Path, hub_factory: Callable[..., Hub], dataverse_sandbox: DataverseSandbox
) -> None:
    hub = hub_factory(hand_written_sql, TODAY)
    runs = hub.sync(*EVERY_STREAM)

    assert dataverse_rows(dataverse_sandbox, "bs_mastercustomersites", ("bs_sitenumber",)) == EXPECTED_MASTER
    assert dataverse_rows(dataverse_sandbox, "bs_users", ("bs_email",)) == EXPECTED_USERS
    access = dataverse_rows(dataverse_sandbox, "bs_customersitesbyusers", ("bs_email", "bs_sitenumber"))
    assert access == EXPECTED_ACCESS
    assert dataverse_rows(dataverse_sandbox, "bs_jobcodes", ("bs_jobcode",)) == EXPECTED_JOB_CODES
    by_site = dataverse_rows(dataverse_sandbox, "bs_jobcodesbysites", ("bs_sitenumber", "bs_jobcode"))
    assert by_site == EXPECTED_JOB_CODES_BY_SITE
    assert (
        dataverse_rows(dataverse_sandbox, "bs_billableexpenses", ("bs_siteid", "bs_period"))
        == EXPECTED_BUDGETS
    )

    assert runs["master_customer_sites"].extract.skipped == 1  # the site without a street
    assert runs["billable_expense_budgets"].extract.skipped == 1  # P401
    assert runs["user_sites"].extract.skipped == 1  # sam's RVP row grants no site
    assert runs["user_sites"].extract.quarantined == 1


def test_quarantined_rows_carry_the_rule_they_broke(
    hand_written_sql: Path, hub_factory: Callable[..., Hub]
) -> None:
    hub = hub_factory(hand_written_sql, TODAY)
    runs = hub.sync("user_sites", "wage_rates")

    access = runs["user_sites"]
    assert access.quarantine_path is not None
    (bad_access,) = _quarantined(hub, access.quarantine_path)
    assert bad_access["row"]["user_id"] == "pat.kim@townepark.com"
    assert bad_access["reasons"] == [
        "row: Value error, a accountmanager profile (SRACCTMGR) needs a site number (0000-8999) in COST_CENTER"
    ]
    wages = runs["wage_rates"]
    assert wages.extract.quarantined == 1 and wages.quarantine_path is not None
    (bad_wage,) = _quarantined(hub, wages.quarantine_path)
    assert bad_wage["reasons"] == ["site: Value error, a site number is 1-4 digits, 0000-8999"]


def _quarantined(hub: Hub, path: str) -> list[dict[str, Any]]:
    document = hub.world.staging.get(path)
    return [orjson.loads(line) for line in document.splitlines() if line]


def test_excluding_differential_pay_entirely_is_a_stream_option(
    hand_written_sql: Path, hub_factory: Callable[..., Hub], dataverse_sandbox: DataverseSandbox
) -> None:
    hub = hub_factory(hand_written_sql, TODAY, differential_pay=DifferentialPay.EXCLUDED)
    hub.sync("wage_rates")

    rates = dataverse_rows(dataverse_sandbox, "bs_jobcodesbysites", ("bs_sitenumber", "bs_jobcode"))
    # GSA at 0170: 448 dollars less the 28 paid as differential and meal premium, over the same 20 hours.
    assert rates[("0170", "GSA")]["bs_averagehourlyrate"] == 21.0
    assert rates[("0338", "VALET")]["bs_averagehourlyrate"] == 0.0


def test_a_job_title_edited_in_dataverse_survives_a_full_resync(
    hand_written_sql: Path, hub_factory: Callable[..., Hub], dataverse_sandbox: DataverseSandbox
) -> None:
    hub = hub_factory(hand_written_sql, TODAY)
    hub.sync("job_codes")
    with dataverse_sandbox.client() as client:
        edited = client.patch(
            "bs_jobcodes(bs_jobcode='GSA')", json={"bs_jobtitle": "Guest Service Attendant"}
        )
        assert edited.status_code == 204

    record = hub.world.engine.run(SyncRequest("job_codes", mode=RunMode.FULL))
    hub.load(len(record.batches))

    final = hub.world.engine.runs.get(record.id)
    assert final is not None and final.extract.staged == 3 and final.load.unchanged == 3
    titles = dataverse_rows(dataverse_sandbox, "bs_jobcodes", ("bs_jobcode",))
    assert titles[("GSA",)]["bs_jobtitle"] == "Guest Service Attendant"
    assert titles[("CASH",)]["bs_jobtitle"] == "CASH"


@pytest.mark.parametrize(
    ("profile", "role"),
    [
        ("DISTMGR", Role.DISTRICT_MANAGER),
        ("AREAMGR", Role.DISTRICT_MANAGER),
        ("SRDISTMGR", Role.DISTRICT_MANAGER),
        ("DOO", Role.ACCOUNT_MANAGER),
        ("ACCTMGR", Role.ACCOUNT_MANAGER),
        ("ASSOCM", Role.ACCOUNT_MANAGER),
        ("SRACCTMGR", Role.ACCOUNT_MANAGER),
        ("ASOPSMGR", Role.ACCOUNT_MANAGER),
        ("TRANSMGR", Role.ACCOUNT_MANAGER),
        (" acctmgr ", Role.ACCOUNT_MANAGER),
        ("RVP", None),
        ("", None),
        (None, None),
    ],
)
def test_role_rules_of_towne_park(profile: str | None, role: Role | None) -> None:
    assert role_of(profile) is role


@pytest.mark.parametrize(
    ("hours", "dollars", "rate"),
    [("20", "448", "22.40"), ("0", "50", "0"), ("3", "10", "3.33"), ("3", "20", "6.67"), ("0", "0", "0")],
)
def test_wage_rate_arithmetic(hours: str, dollars: str, rate: str) -> None:
    assert average_hourly_rate(Decimal(hours), Decimal(dollars)) == Decimal(rate)
