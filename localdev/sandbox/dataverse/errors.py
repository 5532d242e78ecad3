"""Dataverse's failure answers: HTTP status plus ``{"error": {"code": "0x...", "message": "..."}}``.

Where each code comes from:

* Documented by Microsoft: ``0x80072322``, ``0x80072321`` and ``0x80072326``
  (service protection: number of requests, execution time, concurrent requests;
  "Service protection API limits", with their message texts) and
  ``0x80060892`` DuplicateRecordEntityKey with its message ("Web service error
  codes", learn.microsoft.com/power-apps/developer/data-platform/reference/web-service-error-codes).
* Microsoft's examples, sent as shown: 404 "<table> With Id = <id> Does Not
  Exist" and 412 "A record with matching key values already exists." / "The
  version of the existing record doesn't match the RowVersion property
  provided." carry ``"code": ""``
  (learn.microsoft.com/power-apps/developer/data-platform/webapi/perform-conditional-operations-using-web-api);
  400 "Could not find a property named 'x' on type 'Microsoft.Dynamics.CRM.<table>'"
  (``$select``) and "Invalid property 'x' was found in entity ..." (a write)
  carry ``"code": "0x0"``, 404 "Resource not found for the segment" carries
  ``0x8006088a`` and an undeclared navigation property ``0x80048d19``
  (learn.microsoft.com/troubleshoot/power-platform/power-apps/dataverse/web-api-client-errors).
* Not on the Microsoft pages read, but what Dataverse answers today as widely
  reported by its clients: ``0x80060891`` (no record with those alternate key
  values; Microsoft shows no example of that 404), ``0x80060888``
  (unsupported or malformed query), ``0x80048d19`` (malformed payload). The
  sandbox sends these codes; clients must not depend on a code being present.
* ``SANDBOX_LIMITATION`` marks a request real Dataverse would serve but the
  sandbox does not (deep insert, ``$expand``...). It answers 501 so such a gap
  is loud, never mistaken for a Dataverse refusal.
"""

from __future__ import annotations

AS_IN_MICROSOFTS_EXAMPLES = ""  # the code Microsoft's 404 and 412 examples carry
UNKNOWN_PROPERTY = "0x0"  # the code Microsoft's unknown-property examples carry
NOT_FOUND_BY_KEY = "0x80060891"
DUPLICATE_ENTITY_KEY = "0x80060892"
DUPLICATE_RECORD = "0x80040237"
UNKNOWN_SEGMENT = "0x8006088a"
BAD_QUERY = "0x80060888"
BAD_PAYLOAD = "0x80048d19"
TOO_MANY_REQUESTS = "0x80072322"
EXECUTION_TIME_LIMIT = "0x80072321"
CONCURRENCY_LIMIT = "0x80072326"
SANDBOX_LIMITATION = "sandbox-not-implemented"


class ODataError(Exception):
    """A request Dataverse refuses; ``status`` and the error body come from this."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message

    def body(self) -> dict[str, dict[str, str]]:
        return {"error": {"code": self.code, "message": self.message}}


def bad_request(message: str, code: str = BAD_QUERY) -> ODataError:
    return ODataError(400, code, message)


def unknown_segment(segment: str) -> ODataError:
    return ODataError(404, UNKNOWN_SEGMENT, f"Resource not found for the segment '{segment}'.")


def not_found_by_id(logical_name: str, row_id: str) -> ODataError:
    return ODataError(404, AS_IN_MICROSOFTS_EXAMPLES, f"{logical_name} With Id = {row_id} Does Not Exist")


def not_found_by_key(logical_name: str) -> ODataError:
    return ODataError(
        404,
        NOT_FOUND_BY_KEY,
        f"A record with the specified key values does not exist in {logical_name} entity",
    )


def duplicate_key() -> ODataError:
    """``If-None-Match: *`` found the row: Microsoft's "Prevent update in upsert" answer."""
    return ODataError(412, AS_IN_MICROSOFTS_EXAMPLES, "A record with matching key values already exists.")


def duplicate_record() -> ODataError:
    """A create giving a primary id another row has: Microsoft's "Cannot insert duplicate key" (-2147220937).

    learn.microsoft.com/troubleshoot/power-platform/power-apps/dataverse/client-errors names the
    code and message, not the status.
    """
    return ODataError(412, DUPLICATE_RECORD, "Cannot insert duplicate key.")


def duplicate_entity_key(key_name: str, columns: tuple[str, ...]) -> ODataError:
    """A create or update would give a second row these key values (DuplicateRecordEntityKey).

    Microsoft documents the code and message, not the status; 412 is what its
    clients report, so callers must go by the code as much as by the status.
    """
    return ODataError(
        412,
        DUPLICATE_ENTITY_KEY,
        f"Entity Key {key_name} violated. A record with the same value for {', '.join(columns)} already "
        "exists. A duplicate record cannot be created. Select one or more unique values and try again.",
    )


def unknown_property(odata_type: str, name: str) -> ODataError:
    """A ``$select`` naming a column the table does not have."""
    return bad_request(f"Could not find a property named '{name}' on type '{odata_type}'.", UNKNOWN_PROPERTY)


def invalid_property(odata_type: str, name: str) -> ODataError:
    """A write naming a column the table does not have."""
    return bad_request(
        "An error occurred while validating input parameters: Microsoft.Crm.CrmException: Invalid property "
        f"'{name}' was found in entity '{odata_type}'. ---> Microsoft.OData.ODataException: Does not support "
        "untyped value in non-open type.",
        UNKNOWN_PROPERTY,
    )


def undeclared_navigation(entity_set: str, navigation: str) -> ODataError:
    """An ``@odata.bind`` naming a lookup the table does not have."""
    return bad_request(
        f"Error identified in Payload provided by the user for Entity :'{entity_set}'  ---->  InnerException : "
        f"Microsoft.OData.ODataException: An undeclared property '{navigation}' which only has property "
        "annotations in the payload but no property value was found in the payload.",
        BAD_PAYLOAD,
    )


def version_mismatch() -> ODataError:
    return ODataError(
        412,
        AS_IN_MICROSOFTS_EXAMPLES,
        "The version of the existing record doesn't match the RowVersion property provided.",
    )


def invalid_key(odata_type: str) -> ODataError:
    return bad_request(
        f"The key in the request URI is not valid for resource '{odata_type}'. Ensure that the names and "
        f"number of key properties match the declared or alternate key properties for the resource "
        f"'{odata_type}'."
    )


def not_implemented(what: str) -> ODataError:
    return ODataError(501, SANDBOX_LIMITATION, f"The sandbox Dataverse does not implement {what}.")


def unavailable() -> ODataError:
    """The environment is down (maintenance, a failover): Dataverse's front door sends no code or hint."""
    return ODataError(503, "", "The service is unavailable.")


def expired_version_stamp() -> ODataError:
    """A delta token past ``ExpireChangeTrackingInDays``: Dataverse's ``ExpiredVersionStamp`` (-2147204270).

    The code and message are those Dataverse gives RetrieveEntityChanges and
    RetrieveMetadataChanges ("Use change tracking to synchronize data with external
    systems", "Cache schema data"); the 400 status for the Web API's delta link is
    the sandbox's reading: confirm on a real environment before go-live.
    """
    return ODataError(
        400, "0x80044352", "Version stamp associated with the client has expired. Please perform a full sync."
    )
