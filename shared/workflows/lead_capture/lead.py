"""A lead as web forms send it, and as the queue carries it to Salesforce; light, as the API table imports it."""

from __future__ import annotations

from pydantic import Field

from shared.api.models import ApiInput, ApiModel

MAX_KEY_LENGTH = 255  # an Idempotency-Key's longest


class IdempotencyKeyReusedError(Exception):
    """The Idempotency-Key was used before for a different body."""


class LeadSubmission(ApiInput):
    """One person asking about Towne Park's services: who, at which company, and where they came from."""

    first_name: str | None = Field(
        None, max_length=40, title="First Name", description="The person's given name."
    )
    last_name: str = Field(
        min_length=1,
        max_length=80,
        title="Last Name",
        description="The person's family name (Salesforce requires it).",
    )
    email: str = Field(
        pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$",
        max_length=80,
        title="Email",
        description="Together with company, how a returning lead is found.",
    )
    company: str = Field(
        min_length=1, max_length=255, title="Company", description="The hotel, hospital or owner."
    )
    phone: str | None = Field(
        None, max_length=40, title="Phone", description="A number to call back, as typed."
    )
    lead_source: str | None = Field(
        None,
        max_length=40,
        title="Lead Source",
        description="Web, Trade Show, a campaign's name, as marketing names it.",
    )

    def salesforce_fields(self) -> dict[str, str]:
        """The Lead's standard fields; None values are left out, so an update never blanks a field."""
        fields = {
            "FirstName": self.first_name,
            "LastName": self.last_name,
            "Email": self.email,
            "Company": self.company,
            "Phone": self.phone,
            "LeadSource": self.lead_source,
        }
        return {name: value for name, value in fields.items() if value is not None}


class LeadReceipt(ApiModel):
    """What the hub answers: the capture's id, queued for Salesforce."""

    id: str = Field(
        title="Capture ID", description="The same id for every retry with the same Idempotency-Key."
    )
    status: str = Field(description="queued: the lead waits on the lead-captures queue for Salesforce.")
