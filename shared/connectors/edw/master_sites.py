"""Master customer sites: ``MASTER_NON_FINANCIAL`` with billing email and account manager → ``bs_mastercustomersite``.

Replaces the "Master Customer Site Update" dataflow (DOMAIN.md §4): every site
with a name, street, city and state, LEFT JOINed to GP's customer master for
the billing contact email and to Workday's site managers for the account
manager, upserted by ``bs_sitenumber``.

The join is done here in Python, on four-digit site numbers, not in SQL: the
Workday export stores some sites unpadded ('170'), and a join on a padded
expression is written differently on SQL Server and SQLite. All three tables
hold one row per site (~650), so reading them whole costs nothing.

With change tracking on ``MASTER_NON_FINANCIAL`` an incremental run reads the
master rows of the changed sites only (the two lookups are read whole, only
when something changed); the daily full read still picks up a changed
billing email or account manager, whose tables are not tracked.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping, Sequence
from datetime import date

from pydantic import BaseModel, ConfigDict
from sqlalchemy import Engine, select

from shared.connectors.dataverse.sink import DataverseTarget
from shared.connectors.tracked_changes import TrackedChanges
from shared.pipeline.stream import ReadWindow, Record, Row, Stream
from shared.sites import SiteNumber, site_key, spellings
from shared.sql.change_tracking import MASTER_SITES, Change
from shared.sql.engines import stream_rows
from shared.sql.tables import master_non_financial, vw_gp_customer_mstr, workday_site_managers

STREAM = "master_customer_sites"
TARGET = DataverseTarget(entity_set="bs_mastercustomersites", alternate_key=("bs_sitenumber",))


class MasterSite(BaseModel):
    """One ``MASTER_NON_FINANCIAL`` row with its GP billing email and Workday account manager."""

    model_config = ConfigDict(str_strip_whitespace=True)

    site: SiteNumber
    site_name: str | None
    district: str | None
    dm: str | None
    street_address: str | None
    city: str | None
    state: str | None
    zip: str | None
    gl_string: str | None
    tp_deposits: str | None
    p_contract_type: str | None
    first_worked_date: date | None
    last_worked_date: date | None
    svp_region: str | None
    legal_entity: str | None
    pl_category: str | None
    cog_segment: str | None
    business_segment: str | None
    billing_email: str | None = None
    acct_mgr_employee_id: str | None = None
    acct_mgr_first_name: str | None = None
    acct_mgr_last_name: str | None = None


def read_master_sites(
    edw: Engine, page_rows: int, sites: Collection[str] | None = None
) -> Iterator[Sequence[Row]]:
    """Master rows (of ``sites`` when given), each with its billing email and account manager when the site
    has them."""
    emails = {
        site_key(row["CUSTNMBR"]): row["EMAIL_RECIPIENT"].strip()
        for page in stream_rows(edw, select(vw_gp_customer_mstr), page_rows)
        for row in page
        if (row["EMAIL_RECIPIENT"] or "").strip()
    }
    managers = {
        site_key(row["SITE"]): row
        for page in stream_rows(edw, select(workday_site_managers), page_rows)
        for row in page
    }
    master = select(master_non_financial).order_by(master_non_financial.c.SITE)
    if sites is not None:
        master = master.where(master_non_financial.c.SITE.in_(sorted(spellings(sites))))
    for page in stream_rows(edw, master, page_rows):
        yield [_joined(row, emails, managers) for row in page]


def _joined(row: Row, emails: Mapping[str, str], managers: Mapping[str, Row]) -> Row:
    site = site_key(row["SITE"])
    manager = managers.get(site, {})
    joined = {name.lower(): value for name, value in row.items()}
    joined["billing_email"] = emails.get(site)
    for column in ("ACCT_MGR_EMPLOYEE_ID", "ACCT_MGR_FIRST_NAME", "ACCT_MGR_LAST_NAME"):
        joined[column.lower()] = manager.get(column)
    return joined


def to_master_customer_site(site: MasterSite) -> Record | None:
    """The ``bs_mastercustomersite`` record; None (skipped, as today) without name, street, city or state."""
    if not (site.site_name and site.street_address and site.city and site.state):
        return None
    manager = " ".join(part for part in (site.acct_mgr_first_name, site.acct_mgr_last_name) if part)
    return {
        "bs_sitenumber": site.site,
        "bs_sitename": site.site_name,
        "bs_address": f"{site.street_address}, {site.city}, {site.state} {site.zip or ''}".rstrip(),
        "bs_deposits": site.tp_deposits == "Y",
        "bs_glstring": site.gl_string,
        "bs_accountmanager": manager or None,
        "bs_accountmanagerid": site.acct_mgr_employee_id,
        "bs_billingcontactemail": site.billing_email,
        "bs_contracttypestring": site.p_contract_type,
        "bs_district": site.district,
        "bs_districtmanager": site.dm,
        "bs_startdate": _day(site.first_worked_date),
        "bs_closedate": _day(site.last_worked_date),
        "bs_svpregion": site.svp_region,
        "bs_legalentity": site.legal_entity,
        "bs_plcategory": site.pl_category,
        "bs_cogsegment": site.cog_segment,
        "bs_businesssegment": site.business_segment,
    }


def _day(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def _changed_site(change: Change) -> set[str]:
    return {site_key(change.key["SITE"])}


def master_sites_stream(
    edw: Engine, page_rows: int = 5000, track_changes: bool = False
) -> Stream[MasterSite]:
    """The ``master_customer_sites`` stream: a full read each run, unchanged sites not resent (with
    ``track_changes``, on an incremental run, the changed sites)."""

    def read(_: ReadWindow) -> Iterator[Sequence[Row]]:
        return read_master_sites(edw, page_rows)

    def re_read(sites: set[str]) -> Iterator[Sequence[Row]]:
        return read_master_sites(edw, page_rows, sites)

    changes = TrackedChanges(edw, MASTER_SITES, _changed_site, re_read, key_of=lambda key: key[0])
    return Stream(
        name=STREAM,
        model=MasterSite,
        read=read,
        transform=to_master_customer_site,
        target=TARGET,
        changes=changes if track_changes else None,
    )
