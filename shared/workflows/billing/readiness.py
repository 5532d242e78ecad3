"""Billing readiness: every site the month's run will bill, and each thing that would stop its invoice.

Asked before the first-of-month run (DOMAIN.md §7: billing runs in the first
days of the month), so an Account Manager fixes a site before GP refuses it.
A site is billed unless its ``bs_closedate`` is before the month. What stops it,
one blocker each (``Blocker``):

- ``no-gp-customer``: GP has no customer card (``RM00101``) for the site
  number in the company its GL string names; PowerBill's AR invoices use the
  site as ``CUSTNMBR`` (DOMAIN.md §3 A).
- ``no-billing-email``: the site has no ``bs_billingcontactemail``, so the
  statement e-mail has no recipient (§3 A, §7).
- ``inactive-gl-account``: the site has no GL string, or an account its
  invoices post to is not an active account of the company's chart
  (``GL00100.ACTIVE``): receivables ``{cc}-00-0000-1200-0000`` and the
  contract-fee accounts 4790 and 4791 on its GL string (§7, ``billing.py``).
- ``closed-fiscal-period``: GP's fiscal period holding the month's last day
  (arrears invoices are dated so) is closed for the sales or financial series
  (``SY40100``), as the poster would refuse it.
- ``no-contract``: the site has no ``bs_contract``: no statement can be generated.
- ``rss-not-ready``: the contract bills in arrears and no revenue submission
  for the month is 'Ready for Invoice' in ``cr9e8_readyforinvoice`` (§9).
"""

from __future__ import annotations

import calendar
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from shared.connectors.great_plains.chart import FiscalPeriods, Series
from shared.workflows.billing.gp_books import GpBooks, GpCustomerCard
from shared.workflows.billing.powerbill import Contract, PowerBillReader, Site, month_start
from shared.workflows.gp_posting.billing import REVENUE_SHARE_CODE, company_of_gl_string

OTHER_CONTRACT_FEES_CODE = "4791"
RECEIVABLES_ACCOUNT = "1200"


class Blocker(StrEnum):
    NO_GP_CUSTOMER = "no-gp-customer"
    NO_BILLING_EMAIL = "no-billing-email"
    INACTIVE_GL_ACCOUNT = "inactive-gl-account"
    CLOSED_FISCAL_PERIOD = "closed-fiscal-period"
    NO_CONTRACT = "no-contract"
    RSS_NOT_READY = "rss-not-ready"


@dataclass(frozen=True)
class SiteFacts:
    """Everything the rule looks at for one site, read beforehand."""

    site: Site
    company: str
    contract: Contract | None
    gp_customer: GpCustomerCard | None
    inactive_accounts: tuple[str, ...]
    period_refusal: str | None
    rss_ready: bool


@dataclass(frozen=True)
class SiteBlocker:
    blocker: Blocker
    detail: str


@dataclass(frozen=True)
class SiteReadiness:
    site: Site
    company: str
    arrears: bool | None  # None: no contract says
    blockers: tuple[SiteBlocker, ...]

    @property
    def ready(self) -> bool:
        return not self.blockers


def billed_accounts(site: Site) -> tuple[str, ...]:
    """The accounts a site's invoices post to: receivables, and the two contract-fee accounts (DOMAIN.md §7)."""
    code = site.gl_string[:2]
    return (
        f"{code}-00-0000-{RECEIVABLES_ACCOUNT}-0000",
        *(f"{site.gl_string}{fee}-{site.number}" for fee in (REVENUE_SHARE_CODE, OTHER_CONTRACT_FEES_CODE)),
    )


def site_blockers(facts: SiteFacts) -> tuple[SiteBlocker, ...]:
    """What would stop the site's invoice this month, in the order an Account Manager would fix them."""
    site, found = facts.site, []
    if facts.gp_customer is None:
        found.append(
            SiteBlocker(Blocker.NO_GP_CUSTOMER, f"{facts.company} has no customer {site.number} (RM00101)")
        )
    if not site.billing_email:
        found.append(SiteBlocker(Blocker.NO_BILLING_EMAIL, "bs_billingcontactemail is empty"))
    if len(site.gl_string) < 2:
        found.append(SiteBlocker(Blocker.INACTIVE_GL_ACCOUNT, "the site has no GL string (bs_glstring)"))
    elif facts.inactive_accounts:
        accounts = ", ".join(facts.inactive_accounts)
        found.append(
            SiteBlocker(Blocker.INACTIVE_GL_ACCOUNT, f"not active in {facts.company}'s chart: {accounts}")
        )
    if facts.period_refusal is not None:
        found.append(SiteBlocker(Blocker.CLOSED_FISCAL_PERIOD, facts.period_refusal))
    if facts.contract is None:
        found.append(SiteBlocker(Blocker.NO_CONTRACT, "the site has no bs_contract"))
    elif facts.contract.arrears and not facts.rss_ready:
        found.append(
            SiteBlocker(
                Blocker.RSS_NOT_READY, "billed in arrears, and no revenue submission is Ready for Invoice"
            )
        )
    return tuple(found)


def billed_in(site: Site, first_day: date) -> bool:
    """A site is billed for the month unless it closed before the month began."""
    return site.closed_on is None or site.closed_on >= first_day


class BillingReadiness:
    """Reads the facts for a month and applies ``site_blockers`` to every billed site.

    GP's chart and fiscal periods are read fresh on every check (``chart`` is
    ``GpLedger.chart``; ``periods`` is built without a cache): readiness is
    asked to see a fix made in GP a minute ago.
    """

    def __init__(
        self,
        powerbill: PowerBillReader,
        books: GpBooks,
        chart: Callable[[str], frozenset[str]],
        periods: FiscalPeriods,
    ) -> None:
        self._powerbill = powerbill
        self._books = books
        self._chart = chart
        self._periods = periods

    def check(self, period: str, sites: Sequence[str] = ()) -> list[SiteReadiness]:
        """Every site billed for ``period`` (``yyyy-MM``), or only ``sites``, with its blockers; by site number."""
        first = month_start(period)
        last = first.replace(day=calendar.monthrange(first.year, first.month)[1])
        billed = [site for site in self._powerbill.sites(sites) if billed_in(site, first)]
        contracts = self._powerbill.contracts([site.id for site in billed])
        ready = self._powerbill.ready_submissions(period)
        customers: dict[str, dict[str, GpCustomerCard]] = {}
        charts: dict[str, frozenset[str]] = {}
        refusals: dict[str, str | None] = {}
        answers = []
        for site in billed:
            company = company_of_gl_string(site.gl_string)
            if company not in customers:
                customers[company] = self._books.customers(company)
                charts[company] = self._chart(company)
                refusals[company] = self._periods.refusal(company, last, (Series.SALES, Series.FINANCIAL))
            card = customers[company].get(site.number) or customers[company].get(site.number.lstrip("0"))
            contract = contracts.get(site.id)
            facts = SiteFacts(
                site=site,
                company=company,
                contract=contract,
                gp_customer=card,
                inactive_accounts=tuple(a for a in billed_accounts(site) if a not in charts[company]),
                period_refusal=refusals[company],
                rss_ready=site.number in ready,
            )
            answers.append(
                SiteReadiness(site, company, contract.arrears if contract else None, site_blockers(facts))
            )
        return answers
