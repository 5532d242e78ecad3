"""What the hub reads of each Salesforce object, and the hub-proposed Dataverse table it lands in.

Each object is read whole-field (``SELECT`` of the model's fields) by
``SystemModstamp``, the timestamp Salesforce moves on every change, system
ones included (so nothing changed is missed, where ``LastModifiedDate`` skips
system updates), and written to its table keyed by the 18-character
Salesforce id (``bs_salesforceid``). A record deleted in Salesforce stays, with
``bs_isdeleted`` true: Dataverse keeps the history the pipeline report and a
proforma site may refer to.

Field ownership (issue 18): Salesforce owns every pipeline field here, so a
sync overwrites them; on ``bs_salesforceopportunity`` the contract type is
Dataverse's once the row exists (billing settles it on the site's contract,
DOMAIN.md §7; the salesperson's pick is only the first guess), so a value
changed on both sides keeps Dataverse's, and the run lists each such record
with the field it kept.

The custom fields of Towne Park's org (``Region__c``, ``Site_Number__c``,
``Property_Name__c``, ``Rooms__c``, ``Parking_Spaces__c``,
``Contract_Type__c``, ``Expected_Opening__c``) are the hub's reading: no
source names them. They are declared once, in ``OpportunityRow``'s fields.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel

from shared.connectors.dataverse.sink import ConflictPolicy, DataverseTarget
from shared.pipeline.stream import Record
from shared.sites import site_number

SALESFORCE_ID = "bs_salesforceid"


class SalesforceRow(BaseModel):
    """What every object's row carries: its id, its change stamp and whether it is in the recycle bin."""

    Id: str
    SystemModstamp: datetime
    IsDeleted: bool = False


class LeadRow(SalesforceRow):
    FirstName: str | None = None
    LastName: str
    Email: str | None = None
    Company: str
    Phone: str | None = None
    Status: str | None = None
    LeadSource: str | None = None
    OwnerId: str | None = None


class AccountRow(SalesforceRow):
    Name: str
    Type: str | None = None
    Industry: str | None = None
    BillingCity: str | None = None
    BillingState: str | None = None
    OwnerId: str | None = None


class ContactRow(SalesforceRow):
    AccountId: str | None = None
    FirstName: str | None = None
    LastName: str
    Email: str | None = None
    Title: str | None = None
    Phone: str | None = None
    OwnerId: str | None = None


class OpportunityRow(SalesforceRow):
    Name: str
    AccountId: str | None = None
    StageName: str
    Amount: float | None = None
    Probability: float | None = None
    CloseDate: date
    OwnerId: str | None = None
    IsClosed: bool = False
    IsWon: bool = False
    Region__c: str | None = None
    Site_Number__c: str | None = None
    Property_Name__c: str | None = None
    Rooms__c: int | None = None
    Parking_Spaces__c: int | None = None
    Contract_Type__c: str | None = None
    Expected_Opening__c: date | None = None


def _common(row: SalesforceRow) -> Record:
    return {
        SALESFORCE_ID: row.Id,
        "bs_modifiedinsalesforce": row.SystemModstamp.isoformat(),
        "bs_isdeleted": row.IsDeleted,
    }


def to_lead(row: LeadRow) -> Record:
    return {
        **_common(row),
        "bs_firstname": row.FirstName,
        "bs_lastname": row.LastName,
        "bs_email": row.Email,
        "bs_company": row.Company,
        "bs_phone": row.Phone,
        "bs_status": row.Status,
        "bs_leadsource": row.LeadSource,
        "bs_ownerid": row.OwnerId,
    }


def to_account(row: AccountRow) -> Record:
    return {
        **_common(row),
        "bs_name": row.Name,
        "bs_type": row.Type,
        "bs_industry": row.Industry,
        "bs_billingcity": row.BillingCity,
        "bs_billingstate": row.BillingState,
        "bs_ownerid": row.OwnerId,
    }


def to_contact(row: ContactRow) -> Record:
    return {
        **_common(row),
        "bs_accountid": row.AccountId,
        "bs_firstname": row.FirstName,
        "bs_lastname": row.LastName,
        "bs_email": row.Email,
        "bs_title": row.Title,
        "bs_phone": row.Phone,
        "bs_ownerid": row.OwnerId,
    }


def weighted_amount(amount: float | None, probability: float | None) -> float:
    """Amount times probability, the weighted pipeline Salesforce's own forecast uses (ExpectedRevenue)."""
    return round((amount or 0.0) * (probability or 0.0) / 100, 2)


def to_opportunity(row: OpportunityRow) -> Record:
    return {
        **_common(row),
        "bs_name": row.Name,
        "bs_accountid": row.AccountId,
        "bs_stage": row.StageName,
        "bs_amount": row.Amount,
        "bs_probability": row.Probability,
        "bs_weightedamount": weighted_amount(row.Amount, row.Probability),
        "bs_closedate": row.CloseDate.isoformat(),
        "bs_ownerid": row.OwnerId,
        "bs_isclosed": row.IsClosed,
        "bs_iswon": row.IsWon,
        "bs_region": row.Region__c,
        "bs_proposedsitenumber": site_number(row.Site_Number__c) if row.Site_Number__c else None,
        "bs_propertyname": row.Property_Name__c,
        "bs_rooms": row.Rooms__c,
        "bs_parkingspaces": row.Parking_Spaces__c,
        "bs_contracttype": row.Contract_Type__c,
        "bs_expectedopening": row.Expected_Opening__c.isoformat() if row.Expected_Opening__c else None,
    }


@dataclass(frozen=True)
class SalesforceObject:
    """One object's stream: what is read (the model's fields), how it is written, and where."""

    sobject: str
    stream: str
    model: type[SalesforceRow]
    transform: Callable[[Any], Record]
    target: DataverseTarget

    @property
    def fields(self) -> tuple[str, ...]:
        return tuple(self.model.model_fields)


def _keyed(entity_set: str) -> DataverseTarget:
    return DataverseTarget(entity_set=entity_set, alternate_key=(SALESFORCE_ID,))


OBJECTS: tuple[SalesforceObject, ...] = (
    SalesforceObject(
        "Account", "salesforce_accounts", AccountRow, to_account, _keyed("bs_salesforceaccounts")
    ),
    SalesforceObject(
        "Contact", "salesforce_contacts", ContactRow, to_contact, _keyed("bs_salesforcecontacts")
    ),
    SalesforceObject("Lead", "salesforce_leads", LeadRow, to_lead, _keyed("bs_salesforceleads")),
    SalesforceObject(
        "Opportunity",
        "salesforce_opportunities",
        OpportunityRow,
        to_opportunity,
        DataverseTarget(
            entity_set="bs_salesforceopportunities",
            alternate_key=(SALESFORCE_ID,),
            conflict_policy=ConflictPolicy.SKIP_IF_CHANGED,
            keep_dataverse_fields=("bs_contracttype",),
        ),
    ),
)
