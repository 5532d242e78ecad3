"""The sandbox org's state: its objects and records, sessions, query locators and the daily API count.

Records live in memory (the org is reseeded on start and emptied by tests),
guarded by one lock since Starlette serves requests on several threads.
Every write stamps ``SystemModstamp`` from the org's clock, strictly later
than the write before, so a delta read on ``SystemModstamp`` never misses a
record that was written in the same millisecond. A delete is soft, as
Salesforce's recycle bin is: ``IsDeleted`` turns true, ``query`` leaves the
record out and ``queryAll`` returns it.

The daily limit counts every REST call but the token endpoint (Salesforce's
"Limit Info Header": calls to the versions URI do not count either); past it
each call answers 403 ``REQUEST_LIMIT_EXCEEDED``.
"""

from __future__ import annotations

import itertools
import secrets
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from localdev.sandbox.salesforce.soql import parse_datetime

API_VERSION = "v62.0"
DEFAULT_DAILY_LIMIT = 100_000  # Enterprise Edition's base allocation before per-licence additions
DEFAULT_BATCH_SIZE = 2000
MIN_BATCH_SIZE = 200
CLIENT_ID = "towne-park-hub-sandbox"
CLIENT_SECRET = "sandbox-consumer-secret"  # noqa: S105 - the sandbox org's own, published in the README

_SYSTEM = ("Id", "CreatedDate", "SystemModstamp", "IsDeleted")
_DATES = frozenset({"CloseDate", "Expected_Opening__c"})
_DATETIMES = frozenset({"CreatedDate", "SystemModstamp"})
_DERIVED = frozenset({"IsClosed", "IsWon"})


@dataclass(frozen=True)
class SObject:
    """One object type: its key prefix, fields and the fields a create must carry."""

    name: str
    prefix: str
    fields: tuple[str, ...]
    required: tuple[str, ...]

    @property
    def known(self) -> frozenset[str]:
        return frozenset((*_SYSTEM, *self.fields))


OBJECTS: Mapping[str, SObject] = {
    sobject.name: sobject
    for sobject in (
        SObject(
            "Lead",
            "00Q",
            ("FirstName", "LastName", "Email", "Company", "Phone", "Status", "LeadSource", "OwnerId"),
            ("LastName", "Company"),
        ),
        SObject(
            "Account",
            "001",
            ("Name", "Type", "Industry", "BillingCity", "BillingState", "OwnerId"),
            ("Name",),
        ),
        SObject(
            "Contact",
            "003",
            ("AccountId", "FirstName", "LastName", "Email", "Title", "Phone", "OwnerId"),
            ("LastName",),
        ),
        SObject(
            "Opportunity",
            "006",
            (
                "Name",
                "AccountId",
                "StageName",
                "Amount",
                "Probability",
                "CloseDate",
                "OwnerId",
                "IsClosed",
                "IsWon",
                "Region__c",
                "Site_Number__c",
                "Property_Name__c",
                "Rooms__c",
                "Parking_Spaces__c",
                "Contract_Type__c",
                "Expected_Opening__c",
            ),
            ("Name", "StageName", "CloseDate"),
        ),
    )
}

# Salesforce's default stages and their default probabilities (Setup > Opportunity Stages).
STAGE_PROBABILITY: Mapping[str, int] = {
    "Prospecting": 10,
    "Qualification": 10,
    "Needs Analysis": 20,
    "Value Proposition": 50,
    "Id. Decision Makers": 60,
    "Perception Analysis": 70,
    "Proposal/Price Quote": 75,
    "Negotiation/Review": 90,
    "Closed Won": 100,
    "Closed Lost": 0,
}


class OrgError(Exception):
    """A call Salesforce refuses: the HTTP status, ``errorCode`` and message of its error body."""

    def __init__(self, status: int, code: str, message: str, fields: list[str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.fields = fields

    def body(self) -> list[dict[str, Any]]:
        error: dict[str, Any] = {"message": str(self), "errorCode": self.code}
        if self.fields is not None:
            error["fields"] = self.fields
        return [error]


@dataclass
class QueryLocator:
    records: list[dict[str, Any]]
    fields: tuple[str, ...]
    batch_size: int


@dataclass
class SalesforceOrg:
    """Everything the sandbox org knows; reset empties it and puts the settings back."""

    instance_url: str
    daily_limit: int = DEFAULT_DAILY_LIMIT
    used: int = 0
    down: bool = False
    records: dict[str, dict[str, dict[str, Any]]] = field(
        default_factory=lambda: {name: {} for name in OBJECTS}
    )
    sessions: set[str] = field(default_factory=set)
    locators: dict[str, QueryLocator] = field(default_factory=dict)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _last_stamp: datetime = field(default_factory=lambda: datetime.min.replace(tzinfo=UTC))
    lock: threading.RLock = field(default_factory=threading.RLock)

    def reset(self) -> None:
        with self.lock:
            self.daily_limit, self.used, self.down = DEFAULT_DAILY_LIMIT, 0, False
            self.records = {name: {} for name in OBJECTS}
            self.sessions.clear()
            self.locators.clear()

    # sessions and limits

    def issue_token(self, client_id: str, client_secret: str) -> str:
        if not (
            secrets.compare_digest(client_id, CLIENT_ID)
            and secrets.compare_digest(client_secret, CLIENT_SECRET)
        ):
            raise OrgError(400, "invalid_client", "invalid client credentials")
        token = f"00DHb0000000001!{secrets.token_urlsafe(32)}"
        with self.lock:
            self.sessions.add(token)
        return token

    def expire_sessions(self) -> None:
        with self.lock:
            self.sessions.clear()

    def admit(self, authorization: str | None) -> None:
        """Count one API call, or refuse it as Salesforce would (503 down, 401 session, 403 limit)."""
        with self.lock:
            if self.down:
                raise OrgError(
                    503, "SERVER_UNAVAILABLE", "The server is temporarily unable to service your request"
                )
            token = (authorization or "").removeprefix("Bearer ").strip()
            if token not in self.sessions:
                raise OrgError(401, "INVALID_SESSION_ID", "Session expired or invalid")
            if self.used >= self.daily_limit:
                raise OrgError(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")
            self.used += 1

    def limit_info(self) -> str:
        return f"api-usage={self.used}/{self.daily_limit}"

    # records

    def sobject(self, name: str) -> SObject:
        sobject = OBJECTS.get(name)
        if sobject is None:
            raise OrgError(404, "NOT_FOUND", f"The requested resource does not exist: sObject type '{name}'")
        return sobject

    def _stamp(self) -> datetime:
        now = datetime.now(UTC)
        now = now.replace(microsecond=now.microsecond // 1000 * 1000)
        if now <= self._last_stamp:
            now = self._last_stamp + timedelta(milliseconds=1)
        self._last_stamp = now
        return now

    def _new_id(self, sobject: SObject) -> str:
        return f"{sobject.prefix}Hb{next(self._ids):010d}AAA"

    def create(self, name: str, values: Mapping[str, Any], *, system: bool = False) -> str:
        """A new record; ``system`` (the seed) may also set CreatedDate and SystemModstamp."""
        sobject = self.sobject(name)
        fields = self._writable(sobject, values, system)
        missing = [f for f in sobject.required if fields.get(f) in (None, "")]
        if missing:
            raise OrgError(
                400, "REQUIRED_FIELD_MISSING", f"Required fields are missing: [{', '.join(missing)}]", missing
            )
        with self.lock:
            record_id = self._new_id(sobject)
            stamp = self._stamp()
            record: dict[str, Any] = dict.fromkeys(sobject.fields)
            record.update(fields)
            record.update({"Id": record_id, "IsDeleted": False})
            record["CreatedDate"] = fields.get("CreatedDate") or stamp
            record["SystemModstamp"] = fields.get("SystemModstamp") or stamp
            _derive(name, record, fields)
            self.records[name][record_id] = record
            return record_id

    def update(self, name: str, record_id: str, values: Mapping[str, Any]) -> None:
        sobject = self.sobject(name)
        fields = self._writable(sobject, values, False)
        with self.lock:
            record = self._live(name, record_id)
            record.update(fields)
            _derive(name, record, fields)
            record["SystemModstamp"] = self._stamp()

    def delete(self, name: str, record_id: str) -> None:
        with self.lock:
            record = self._live(name, record_id)
            record["IsDeleted"] = True
            record["SystemModstamp"] = self._stamp()

    def get(self, name: str, record_id: str) -> dict[str, Any]:
        with self.lock:
            return dict(self._live(name, record_id))

    def _live(self, name: str, record_id: str) -> dict[str, Any]:
        self.sobject(name)
        record = self.records[name].get(record_id)
        if record is None or record["IsDeleted"]:
            raise OrgError(404, "NOT_FOUND", "The requested resource does not exist")
        return record

    def _writable(self, sobject: SObject, values: Mapping[str, Any], system: bool) -> dict[str, Any]:
        unknown = [f for f in values if f not in sobject.known and f != "attributes"]
        if unknown:
            raise OrgError(
                400, "INVALID_FIELD", f"No such column '{unknown[0]}' on sobject of type {sobject.name}"
            )
        allowed = sobject.known - _DERIVED - ({"Id", "IsDeleted"} if system else set(_SYSTEM))
        refused = [f for f in values if f not in allowed and f != "attributes"]
        if refused:
            raise OrgError(
                400,
                "INVALID_FIELD_FOR_INSERT_UPDATE",
                f"Unable to create/update fields: {', '.join(refused)}. Please check the security settings of "
                "this field and verify that it is read/write for your profile or permission set.",
                refused,
            )
        return {f: _typed(f, v) for f, v in values.items() if f != "attributes"}

    def snapshot(self, name: str, *, include_deleted: bool) -> list[dict[str, Any]]:
        with self.lock:
            self.sobject(name)
            return [dict(r) for r in self.records[name].values() if include_deleted or not r["IsDeleted"]]

    def park(self, records: list[dict[str, Any]], fields: tuple[str, ...], batch_size: int) -> str:
        locator = f"01gHb{secrets.token_hex(6)}"
        with self.lock:
            self.locators[locator] = QueryLocator(records, fields, batch_size)
        return locator


def _derive(name: str, record: dict[str, Any], written: Mapping[str, Any]) -> None:
    """An opportunity's IsClosed, IsWon and (unless written) Probability follow its stage."""
    if name != "Opportunity" or "StageName" not in written:
        return
    stage = record["StageName"]
    record["IsClosed"] = stage in ("Closed Won", "Closed Lost")
    record["IsWon"] = stage == "Closed Won"
    if "Probability" not in written:
        record["Probability"] = STAGE_PROBABILITY.get(stage, record.get("Probability"))


def _typed(name: str, value: Any) -> Any:
    if value is None or value == "":
        return None
    if name in _DATES and isinstance(value, str):
        return date.fromisoformat(value)
    if name in _DATETIMES and isinstance(value, str):
        return parse_datetime(value)
    return value


def wire(value: Any) -> Any:
    """A value as Salesforce's JSON spells it: datetimes ``2026-12-03T13:55:00.000+0000``."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}+0000"
    if isinstance(value, date):
        return value.isoformat()
    return value
