"""Dataverse's failure answers: HTTP status plus ``{"error": {"code": "0x...", "message": "..."}}``.

Where each code comes from:

* Documented by Microsoft: ``0x80072322``, ``0x80072321`` and ``0x80072326``
  (service protection: number of requests, execution time, concurrent requests;
  "Service protection API limits", with their message texts). The
  messages "A record with matching key values already exists.", "The version of
  the existing record doesn't match the RowVersion property provided.",
  "<table> With Id = <id> Does Not Exist" and the invalid-key message are
  Microsoft's, from "Perform conditional operations" and "Use an alternate key";
  those pages show their error bodies with an empty ``code``.
* Not on the Microsoft pages read, but what Dataverse answers today as widely
  reported by its clients: ``0x80040217`` (record not found by id),
  ``0x80060891`` (no record with those alternate key values), ``0x80040237``
  (duplicate key), ``0x80060882`` (concurrency version mismatch),
  ``0x8006088a`` (unknown resource segment), ``0x80060888`` (unsupported or
  malformed query), ``0x80048d19`` (malformed payload). The sandbox sends these
  codes; clients must not depend on a code being present.
* ``SANDBOX_LIMITATION`` marks a request real Dataverse would serve but the
  sandbox does not (deep insert, ``$expand``...). It answers 501 so such a gap
  is loud, never mistaken for a Dataverse refusal.
"""

from __future__ import annotations

NOT_FOUND_BY_ID = "0x80040217"
NOT_FOUND_BY_KEY = "0x80060891"
DUPLICATE_KEY = "0x80040237"
VERSION_MISMATCH = "0x80060882"
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
    return ODataError(404, NOT_FOUND_BY_ID, f"{logical_name} With Id = {row_id} Does Not Exist")


def not_found_by_key(logical_name: str) -> ODataError:
    return ODataError(
        404,
        NOT_FOUND_BY_KEY,
        f"A record with the specified key values does not exist in {logical_name} entity",
    )


def duplicate_key() -> ODataError:
    return ODataError(412, DUPLICATE_KEY, "A record with matching key values already exists.")


def version_mismatch() -> ODataError:
    return ODataError(
        412,
        VERSION_MISMATCH,
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
