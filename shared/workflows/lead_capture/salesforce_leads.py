"""Filing a captured lead in Salesforce: found by email and company and updated, or created.

The dedupe is a SOQL query on the Lead's ``Email`` and ``Company`` (text
compared case-insensitively, as SOQL does), values escaped as SOQL's quoted
string rules say (backslash and single quote; developer.salesforce.com,
"Quoted String Escape Sequences"). A lead found is updated with the other fields
the form sent, never blanked; else one is created. Delivering the same
capture twice therefore changes nothing the second time: the first delivery's
lead is found.
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.connectors.salesforce.rest import SalesforceRest
from shared.workflows.lead_capture.lead import LeadSubmission


def soql_text(value: str) -> str:
    """``value`` as a SOQL string literal."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


@dataclass(frozen=True)
class FiledLead:
    lead_id: str
    created: bool


def file_lead(salesforce: SalesforceRest, lead: LeadSubmission) -> FiledLead:
    soql = (
        f"SELECT Id FROM Lead WHERE Email = {soql_text(lead.email)} "  # noqa: S608 - values escaped by soql_text
        f"AND Company = {soql_text(lead.company)} ORDER BY CreatedDate ASC LIMIT 1"
    )
    found = [record["Id"] for page in salesforce.query(soql) for record in page]
    if found:
        # Email and Company found the lead; as Salesforce spells them they stay.
        changes = {k: v for k, v in lead.salesforce_fields().items() if k not in ("Email", "Company")}
        salesforce.update("Lead", found[0], changes)
        return FiledLead(found[0], created=False)
    return FiledLead(salesforce.create("Lead", lead.salesforce_fields()), created=True)
