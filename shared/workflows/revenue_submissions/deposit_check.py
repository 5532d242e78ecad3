"""Towne Park's deposit check: the deposits an RSS records against what GP collected (DOMAIN.md §9).

The Ready-for-Invoicing Logic App sums, for the site and month:

* ``TPDeposit``: ``EXTERNALREVENUE`` of ``vwREVENUE_DAILY_DETAIL_INVOICE`` rows with
  ``DEPOSIT_FLAG = 'Y'`` (revenue Towne Park deposits);
* ``TPCash``: ``VALUE`` of the submitted data mart's 'Cash Deposits to Local TP
  Bank Account' rows (what went to the site's local bank account instead);
* ``TPCollected``: ``BALANCE`` of ``ACCOUNT_SUMMARY`` account 4785, stored negative
  as GP keeps revenue;

and the submission balances when ``TPDeposit - TPCash`` equals ``-TPCollected``
to the cent; its mail shows the first as "Deposit recorded in RSS" and the
second as "Collected from GP". The Logic App today ORs that test with
``1 = 1``, so nothing is ever rejected; the hub applies the test, within
``RSS_DEPOSIT_TOLERANCE`` (0.00 by default: to the cent, as the Logic App compares).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

CENT = Decimal("0.01")


@dataclass(frozen=True)
class DepositFigures:
    tp_deposits: Decimal  # TPDeposit
    cash_deposits: Decimal  # TPCash, from the submitted workbook
    collected_4785: Decimal  # TPCollected, as ACCOUNT_SUMMARY holds it (negative)

    @property
    def recorded(self) -> Decimal:
        """ "Deposit recorded in RSS": Towne Park's deposits less the cash banked locally."""
        return (self.tp_deposits - self.cash_deposits).quantize(CENT)

    @property
    def collected(self) -> Decimal:
        """ "Collected from GP": account 4785 with its sign turned."""
        return (-self.collected_4785).quantize(CENT)

    @property
    def difference(self) -> Decimal:
        return self.recorded - self.collected


def deposits_balance(figures: DepositFigures, tolerance: Decimal) -> bool:
    """True when the recorded deposits and GP's collections differ by no more than ``tolerance``."""
    return abs(figures.difference) <= tolerance


def rejection_comment(figures: DepositFigures) -> str:
    """The figures as ``cr9e8_comments`` and the submitter's mail state them."""
    return (
        f"Rejected by the deposit check: deposit recorded in RSS {figures.recorded:,.2f} "
        f"(Towne Park deposits {figures.tp_deposits:,.2f} less cash deposits to the local bank "
        f"{figures.cash_deposits:,.2f}); collected from GP (account 4785) {figures.collected:,.2f}; "
        f"difference {figures.difference:,.2f}."
    )
