"""Towne Park's GP main accounts as the sandbox's chart of accounts, with their summary categories.

The account numbers and ranges are Towne Park's (DOMAIN.md §4, §5, §7):
internal revenue 4000-4999 (4785 deposits, 4790 revenue share and Management
Agreement, 4791 other contract fees), payroll 6000-6199 (6010 and 6014 not
billable by default), PTEB 6200 + 6399 + 6500, other expense 7000-7999 with
7082 insurance, 7100 claims and 7170 parking rents, and the statistic accounts
94xx/95xx. The names of the accounts are the sandbox's own.
"""

from __future__ import annotations

from dataclasses import dataclass

EXTERNAL_REVENUE = "EXTERNAL REVENUE"
INTERNAL_REVENUE = "INTERNAL REVENUE"
PAYROLL = "PAYROLL"
CLAIMS = "CLAIMS"
PARKING_RENTS = "PARKING RENTS"
OTHER_EXPENSE = "OTHER EXPENSE"
PTEB = "PTEB"
INSURANCE = "INSURANCE"


@dataclass(frozen=True)
class Account:
    number: str
    name: str
    category: str | None  # None for statistic (unit) accounts
    share: float = 0.0  # of the site's monthly payroll (payroll, PTEB, expense accounts)


ACCOUNTS: tuple[Account, ...] = (
    Account("4010", "Management Fee Revenue", INTERNAL_REVENUE),
    Account("4020", "Fixed Fee Revenue", INTERNAL_REVENUE),
    Account("4030", "Per Labor Hour Revenue", INTERNAL_REVENUE),
    Account("4040", "Per Occupied Room Revenue", INTERNAL_REVENUE),
    Account("4050", "Billable Expense Revenue", INTERNAL_REVENUE),
    Account("4785", "Deposited Revenue", INTERNAL_REVENUE),
    Account("4790", "Revenue Share", INTERNAL_REVENUE),
    Account("4791", "Other Contract Fees", INTERNAL_REVENUE),
    Account("6000", "Salaries - Management", PAYROLL, 0.1),
    Account("6005", "Hourly Wages", PAYROLL, 0.72),
    Account("6010", "Payroll Accrual", PAYROLL, 0.01),
    Account("6014", "Incentive Bonus", PAYROLL, 0.01),
    Account("6020", "Overtime Wages", PAYROLL, 0.06),
    Account("6030", "Holiday Pay", PAYROLL, 0.01),
    Account("6040", "Paid Time Off", PAYROLL, 0.03),
    Account("6050", "Training Wages", PAYROLL, 0.01),
    Account("6200", "Payroll Taxes", PTEB, 0.085),
    Account("6399", "Workers Compensation", PTEB, 0.03),
    Account("6500", "Employee Benefits", PTEB, 0.06),
    Account("7005", "Bad Debt Expense", OTHER_EXPENSE, 0.002),
    Account("7010", "Operating Supplies", OTHER_EXPENSE, 0.015),
    Account("7016", "Corporate Allocation", OTHER_EXPENSE, 0.01),
    Account("7020", "Telephone", OTHER_EXPENSE, 0.004),
    Account("7030", "Equipment Rental", OTHER_EXPENSE, 0.006),
    Account("7040", "Repairs and Maintenance", OTHER_EXPENSE, 0.01),
    Account("7050", "Vehicle Fuel", OTHER_EXPENSE, 0.01),
    Account("7070", "Credit Card Fees", OTHER_EXPENSE, 0.012),
    Account("7082", "Insurance", INSURANCE, 0.0445),
    Account("7100", "Claims", CLAIMS, 0.0),
    Account("7170", "Rents - Parking", PARKING_RENTS, 0.05),
    Account("7220", "Uniforms", OTHER_EXPENSE, 0.006),
    Account("7300", "Travel", OTHER_EXPENSE, 0.003),
    Account("7400", "Licenses and Permits", OTHER_EXPENSE, 0.002),
    Account("7600", "Training and Recruiting", OTHER_EXPENSE, 0.003),
    Account("7700", "Shuttle Lease", OTHER_EXPENSE, 0.03),
    Account("9410", "External Revenue", EXTERNAL_REVENUE),
    Account("9411", "Valet Daily Revenue", EXTERNAL_REVENUE),
    Account("9412", "Valet Overnight Revenue", EXTERNAL_REVENUE),
    Account("9413", "Valet Monthly Revenue", EXTERNAL_REVENUE),
    Account("9414", "Self Daily Revenue", EXTERNAL_REVENUE),
    Account("9415", "Self Overnight Revenue", EXTERNAL_REVENUE),
    Account("9416", "Self Monthly Revenue", EXTERNAL_REVENUE),
    Account("9440", "Occupied Rooms", None),
    Account("9510", "Valet Daily Count", None),
    Account("9520", "Valet Overnight Count", None),
    Account("9530", "Valet Monthly Count", None),
    Account("9540", "Valet Comps", None),
    Account("9550", "Self Daily Count", None),
    Account("9560", "Self Overnight Count", None),
    Account("9570", "Self Monthly Count", None),
    Account("9580", "Self Comps", None),
)
BY_NUMBER = {account.number: account for account in ACCOUNTS}

# DOMAIN.md §4: each parking revenue category's revenue and count statistic accounts.
CATEGORY_ACCOUNTS = {
    "Valet Daily": ("9411", "9510"),
    "Valet Overnight": ("9412", "9520"),
    "Valet Monthly": ("9413", "9530"),
    "Self Daily": ("9414", "9550"),
    "Self Overnight": ("9415", "9560"),
    "Self Monthly": ("9416", "9570"),
}
