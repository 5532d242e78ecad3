"""The Dataverse Web API (v9.2) as the hub uses it: paged queries, change tracking, keyed writes, batches.

Every request carries the OData headers Microsoft's examples show and a bearer
token asked for on each attempt. Reads page with ``Prefer: odata.maxpagesize``
and follow ``@odata.nextLink``; writes address rows by alternate key; failures
come back as typed ``HubError``s built from Dataverse's error body.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import httpx
import orjson

from shared.connectors.dataverse.auth import RenewableToken
from shared.connectors.dataverse.batch import (
    BatchFormatError,
    BatchOperation,
    BatchPartResponse,
    build_batch,
    is_multipart,
    parse_batch_response,
)
from shared.connectors.dataverse.keys import entity_path, query_string
from shared.connectors.dataverse.odata_errors import dataverse_error, parse_odata_error
from shared.errors import ErrorClass, HubError
from shared.http.backoff import parse_retry_after
from shared.http.client import ResilientClient

API_PATH = "api/data/v9.2/"
log = logging.getLogger(__name__)

MAX_PAGE_SIZE = 5000
ODATA_HEADERS = {"OData-Version": "4.0", "OData-MaxVersion": "4.0", "Accept": "application/json"}
_JSON = "application/json; charset=utf-8"
_DELETED_ENTITY = "$deletedEntity"


@dataclass(frozen=True)
class TrackedChanges:
    """What changed in a table since the last delta link: new or updated rows, deleted ids, the next link."""

    changed: list[dict[str, Any]]
    deleted_ids: list[str]
    delta_link: str


def web_api_root(org_url: str) -> str:
    """``https://{org}.crm.dynamics.com/api/data/v9.2/`` for an environment URL."""
    return org_url.rstrip("/") + "/" + API_PATH


def json_body(record: Mapping[str, Any]) -> bytes:
    """A record as the JSON Dataverse reads."""
    return orjson.dumps(record, default=_json_default)


def _json_default(value: Any) -> Any:
    # Dataverse decimal and money columns keep at most 10 decimal places; a
    # float's 15-17 significant digits carry every value they can hold.
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, date | datetime | UUID):
        return str(value)
    raise TypeError(f"a {type(value).__name__} cannot be sent to Dataverse")


class DataverseClient:
    """One Dataverse environment's Web API, through the host's resilient HTTP client."""

    def __init__(self, http: ResilientClient, token: Callable[[], str]) -> None:
        self._http = http
        self._token = token

    @property
    def root(self) -> str:
        """The Web API's absolute root URL, ending in ``/api/data/v9.2/``."""
        return self._http.base_url

    def pause(self, seconds: float) -> None:
        """Hold every call to this environment, as a throttled answer inside a batch asks."""
        self._http.pause(seconds)

    def _auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._token()}"}

    def query(
        self,
        entity_set: str,
        select: Sequence[str],
        filter: str | None = None,
        page_size: int = MAX_PAGE_SIZE,
    ) -> Iterator[dict[str, Any]]:
        """Every row of ``entity_set`` matching ``filter``, page by page, with ``select`` columns."""
        url: str | None = f"{entity_set}?" + query_string({"$select": ",".join(select), "$filter": filter})
        headers = {**ODATA_HEADERS, "Prefer": f"odata.maxpagesize={_page_size(page_size)}"}
        while url:
            page = self._get_json(url, headers, operation="query", entity=entity_set)
            yield from page.get("value", [])
            url = page.get("@odata.nextLink")

    def track_changes(
        self,
        entity_set: str,
        select: Sequence[str],
        delta_link: str | None = None,
        page_size: int = MAX_PAGE_SIZE,
    ) -> TrackedChanges:
        """Rows changed and ids deleted since ``delta_link`` (every row when None), and the next link.

        The table must have *Track changes* enabled; without it Dataverse gives
        no delta link, and this raises a config error saying so.
        """
        url: str | None = delta_link or f"{entity_set}?" + query_string({"$select": ",".join(select)})
        headers = {
            **ODATA_HEADERS,
            "Prefer": f"odata.track-changes,odata.maxpagesize={_page_size(page_size)}",
        }
        changed: list[dict[str, Any]] = []
        deleted: list[str] = []
        next_delta: str | None = None
        while url:
            page = self._get_json(url, headers, operation="track_changes", entity=entity_set)
            for item in page.get("value", []):
                if _is_deleted(item):
                    deleted.append(str(item["id"]))
                else:
                    changed.append(item)
            url = page.get("@odata.nextLink")
            next_delta = page.get("@odata.deltaLink", next_delta)
        if next_delta is None:
            raise HubError(
                f"Dataverse gave no delta link for {entity_set}; turn on Track changes for the table",
                error_class=ErrorClass.CONFIG,
                context={"system": "dataverse", "operation": "track_changes", "entity": entity_set},
            )
        return TrackedChanges(changed=changed, deleted_ids=deleted, delta_link=next_delta)

    def upsert(
        self,
        entity_set: str,
        key: Mapping[str, Any],
        body: Mapping[str, Any],
        *,
        if_match: str | None = None,
        if_none_match: bool = False,
    ) -> str | None:
        """PATCH one row by alternate key; returns the row's ``OData-EntityId``.

        ``if_none_match`` makes it create-only (412 if the key exists),
        ``if_match="*"`` update-only (404 if missing), ``if_match=<etag>``
        update-only-if-unchanged (412 if someone changed it).
        """
        operation = self.upsert_operation(
            entity_set, key, body, if_match=if_match, if_none_match=if_none_match
        )
        response = self._send(
            "PATCH",
            operation.url,
            headers={**ODATA_HEADERS, **operation.headers, "Content-Type": _JSON},
            content=operation.body,
            idempotent=if_match is None and not if_none_match,
        )
        self._raise_for(response, operation="upsert", entity=entity_set, create_only=if_none_match)
        entity_id: str | None = response.headers.get("OData-EntityId")
        return entity_id

    def delete(self, entity_set: str, key: Mapping[str, Any]) -> None:
        """DELETE one row by alternate key; ``NotFoundError`` when it is not there."""
        operation = self.delete_operation(entity_set, key)
        response = self._send("DELETE", operation.url, headers=ODATA_HEADERS)
        self._raise_for(response, operation="delete", entity=entity_set)

    def upsert_operation(
        self,
        entity_set: str,
        key: Mapping[str, Any],
        body: Mapping[str, Any],
        *,
        if_match: str | None = None,
        if_none_match: bool = False,
    ) -> BatchOperation:
        """The PATCH that upserts one row by key, ready to send alone or inside a batch."""
        headers: dict[str, str] = {}
        if if_match is not None:
            headers["If-Match"] = if_match
        if if_none_match:
            headers["If-None-Match"] = "*"
        url = self.root + entity_path(entity_set, list(key), key)
        return BatchOperation("PATCH", url, headers, json_body(body))

    def create_operation(self, entity_set: str, body: Mapping[str, Any]) -> BatchOperation:
        """The POST that creates one row, its key columns in ``body``: never an update.

        Microsoft documents this create ("Create a table row using the Web API",
        learn.microsoft.com/power-apps/developer/data-platform/webapi/create-entity-web-api);
        a row already holding the key values refuses it with DuplicateRecordEntityKey
        (``0x80060892``, learn.microsoft.com/power-apps/developer/data-platform/reference/web-service-error-codes).
        ``If-None-Match: *`` is documented for the primary key only, so it is not used here.
        """
        return BatchOperation("POST", self.root + entity_set, {}, json_body(body))

    def delete_operation(self, entity_set: str, key: Mapping[str, Any]) -> BatchOperation:
        return BatchOperation("DELETE", self.root + entity_path(entity_set, list(key), key))

    def execute_batch(
        self,
        operations: Sequence[BatchOperation],
        *,
        idempotent: bool,
        on_throttled: Callable[[str], None] | None = None,
    ) -> list[BatchPartResponse]:
        """Send ``operations`` as one ``$batch`` that carries on past failures; one answer per operation.

        Fewer answers than operations means Dataverse stopped early; the caller
        resends the rest. ``idempotent`` says whether the whole batch may be
        sent again after its answer was lost. ``on_throttled`` hears the error
        code of each 429 the whole batch met, retried or not.
        """

        def observe(response: httpx.Response) -> None:
            if on_throttled is not None and response.status_code == 429:
                on_throttled(parse_odata_error(response.content, 429).code)

        content_type, body = build_batch(operations)
        response = self._send(
            "POST",
            "$batch",
            headers={**ODATA_HEADERS, "Content-Type": content_type, "Prefer": "odata.continue-on-error"},
            content=body,
            idempotent=idempotent,
            observe=observe,
        )
        answer_type = response.headers.get("Content-Type")
        if not is_multipart(answer_type):
            self._raise_for(response, operation="batch", entity=None)
            raise HubError(
                f"Dataverse answered $batch with {answer_type or 'no Content-Type'}, not multipart/mixed",
                error_class=ErrorClass.TRANSIENT,
                context={"system": "dataverse", "operation": "batch"},
            )
        try:
            return parse_batch_response(str(answer_type), response.content)
        except BatchFormatError as error:
            raise HubError(
                f"Dataverse's $batch answer could not be read: {error}",
                error_class=ErrorClass.TRANSIENT,
                context={"system": "dataverse", "operation": "batch"},
            ) from error

    def _get_json(
        self, url: str, headers: Mapping[str, str], *, operation: str, entity: str
    ) -> dict[str, Any]:
        response = self._send("GET", url, headers=headers)
        self._raise_for(response, operation=operation, entity=entity)
        page: dict[str, Any] = response.json()
        return page

    def _send(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str],
        content: bytes | None = None,
        idempotent: bool | None = None,
        observe: Callable[[httpx.Response], None] | None = None,
    ) -> httpx.Response:
        """One call through the resilient client; a 401 renews the token and goes once more.

        Dataverse answers 401 before it acts on a request, so sending it again is
        safe whatever the method; a second 401 is the answer (an auth failure).
        """

        def attempt() -> httpx.Response:
            return self._http.send(
                method,
                url,
                headers=headers,
                content=content,
                idempotent=idempotent,
                auth=self._auth,
                observe=observe,
            )

        response = attempt()
        if response.status_code != 401 or not isinstance(self._token, RenewableToken):
            return response
        log.warning("Dataverse refused the hub's token (HTTP 401); signing in again and retrying once")
        self._token.renew()
        return attempt()

    def _raise_for(
        self, response: httpx.Response, *, operation: str, entity: str | None, create_only: bool = False
    ) -> None:
        if response.status_code < 400:
            return
        context: dict[str, object] = {"system": "dataverse", "operation": operation}
        if entity:
            context["entity"] = entity
        raise dataverse_error(
            response.status_code,
            parse_odata_error(response.content, response.status_code),
            context=context,
            retry_after=parse_retry_after(response.headers.get("Retry-After"), _utc_now()),
            create_only=create_only,
        )


def _is_deleted(item: Mapping[str, Any]) -> bool:
    """Dataverse marks a deleted row with a ``$deletedEntity`` context; OData JSON allows ``@removed``."""
    context = str(item.get("@odata.context", ""))
    return context.endswith(_DELETED_ENTITY) or "@removed" in item or "@odata.removed" in item


def _page_size(page_size: int) -> int:
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise ValueError(f"page_size must be 1..{MAX_PAGE_SIZE}")
    return page_size


def _utc_now() -> datetime:
    return datetime.now(UTC)
