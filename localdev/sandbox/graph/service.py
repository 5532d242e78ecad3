"""The sandbox Microsoft Graph v1.0: the calls the hub's revenue submissions make, in Graph's shapes.

Served under ``/v1.0`` with a bearer token the sandbox Entra ID issued for
``https://graph.microsoft.com`` (scope ``https://graph.microsoft.com/.default``):

* ``GET /sites/{site-id}/lists/{list-id}/items/{item-id}`` (``$expand=fields``) and
  ``PATCH .../items/{item-id}/fields`` (the updated ``fieldValueSet``);
* ``GET .../items/delta`` (``token``, ``$top``, ``$expand=fields``): pages linked by
  ``@odata.nextLink``, the last with ``@odata.deltaLink``; ``token=latest`` gives only
  the link; an expired token is answered 410 Gone with ``Location`` (a fresh enumeration);
* ``GET .../items/{item-id}/driveItem`` (``id``, ``name``, ``cTag``, ``size``) and
  ``.../driveItem/content``: 302 to a pre-authenticated download URL, as Graph answers;
* ``POST /subscriptions`` (resource ``sites/{site-id}/lists/{list-id}``, change type
  ``updated``, at most 42,300 minutes ahead, after the validation handshake),
  ``GET /subscriptions``, ``PATCH /subscriptions/{id}`` (renewal), ``DELETE``;
* ``POST /users/{id | userPrincipalName}/sendMail``: 202, the message recorded.

Test controls under ``/sandbox/graph/``: ``reset``, ``sites`` (a site with its
Revenue list), ``.../items`` (upload an RSS workbook), ``.../items/{id}/edit`` (a
person changes fields, which notifies), ``.../expire-tokens``, ``notifications``
(on or off), ``notify`` (send a list's notification again), ``subscriptions/{id}``
(move its expiry), ``mail`` and ``deliveries`` (what was sent).
"""

from __future__ import annotations

import secrets
import ssl
import uuid
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

import jwt
import orjson
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from localdev.sandbox.graph.webhooks import Notifier, ValidationFailedError, validate_endpoint
from localdev.sandbox.graph.workbooks import rss_workbook, unreadable_workbook
from localdev.sandbox.graph.world import (
    REVENUE_LIST,
    GraphWorld,
    ListItem,
    RevenueList,
    Subscription,
    graph_time,
    utc_now,
)
from localdev.sandbox.identity import IdentityProvider

GRAPH_RESOURCE = "https://graph.microsoft.com"
API = "/v1.0"
CONTROL = "/sandbox/graph"
MAX_LIST_SUBSCRIPTION = timedelta(minutes=42_300)  # SharePoint list: under 30 days
DEFAULT_PAGE = 200
STATUS_FIELD = "Revenue_x0020_Doc_x0020_Status"
_ITEM = API + "/sites/{site_id}/lists/{list_id}/items/{item_id}"


def graph_error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> Response:
    body = {"error": {"code": code, "message": message, "innerError": {"request-id": str(uuid.uuid4())}}}
    return JSONResponse(body, status_code=status, headers=headers)


class GraphService:
    """Graph's routes over one ``GraphWorld``; every Graph call needs a token issued for Graph."""

    def __init__(self, identity: IdentityProvider, base_url: str, verify: ssl.SSLContext | bool) -> None:
        self.world = GraphWorld()
        self._identity = identity
        self._base_url = base_url.rstrip("/")
        self._verify = verify
        self._notifier = Notifier(self.world, identity.tenant_id, verify)
        self._downloads: dict[str, bytes] = {}

    def routes(self) -> list[Route]:
        return [
            Route(API + "/sites/{site_id}/lists/{list_id}/items/delta", self._delta, methods=["GET"]),
            Route(_ITEM, self._item, methods=["GET"]),
            Route(_ITEM + "/fields", self._patch_fields, methods=["PATCH"]),
            Route(_ITEM + "/driveItem", self._drive_item, methods=["GET"]),
            Route(_ITEM + "/driveItem/content", self._content, methods=["GET"]),
            Route(API + "/subscriptions", self._subscriptions, methods=["GET", "POST"]),
            Route(API + "/subscriptions/{id}", self._subscription, methods=["GET", "PATCH", "DELETE"]),
            Route(API + "/users/{user}/sendMail", self._send_mail, methods=["POST"]),
            Route(CONTROL + "/downloads/{token}", self._download, methods=["GET"]),
            Route(CONTROL + "/reset", self._reset, methods=["POST"]),
            Route(CONTROL + "/sites", self._add_site, methods=["POST"]),
            Route(CONTROL + "/sites/{site_id}/items", self._upload, methods=["POST"]),
            Route(CONTROL + "/sites/{site_id}/items/{item_id}/edit", self._edit, methods=["POST"]),
            Route(CONTROL + "/sites/{site_id}/expire-tokens", self._expire_tokens, methods=["POST"]),
            Route(CONTROL + "/sites/{site_id}/notify", self._notify_again, methods=["POST"]),
            Route(CONTROL + "/notifications", self._notifications, methods=["POST"]),
            Route(CONTROL + "/subscriptions/{id}", self._move_expiry, methods=["POST"]),
            Route(CONTROL + "/mail", self._mail, methods=["GET"]),
            Route(CONTROL + "/deliveries", self._deliveries, methods=["GET"]),
        ]

    # ── Graph ───────────────────────────────────────────────────────────────────────────────────

    def _caller(self, request: Request) -> dict[str, Any] | Response:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return graph_error(401, "InvalidAuthenticationToken", "Access token is empty.")
        try:
            return self._identity.validate(token.strip(), GRAPH_RESOURCE)
        except jwt.InvalidTokenError as error:
            return graph_error(401, "InvalidAuthenticationToken", f"Access token validation failure: {error}")

    def _list(self, request: Request) -> RevenueList | Response:
        revenue = self.world.revenue_list(request.path_params["site_id"], request.path_params["list_id"])
        if revenue is None:
            return graph_error(404, "itemNotFound", "The requested site or list was not found")
        return revenue

    def _list_item(self, request: Request) -> ListItem | Response:
        revenue = self._list(request)
        if isinstance(revenue, Response):
            return revenue
        item = revenue.items.get(request.path_params["item_id"])
        if item is None or item.deleted:
            return graph_error(404, "itemNotFound", "The specified list item was not found")
        return item

    async def _item(self, request: Request) -> Response:
        if isinstance(caller := self._caller(request), Response):
            return caller
        with self.world.lock:
            item = self._list_item(request)
            if isinstance(item, Response):
                return item
            return JSONResponse(self._item_json(request, item, with_fields=_expands_fields(request)))

    async def _patch_fields(self, request: Request) -> Response:
        if isinstance(caller := self._caller(request), Response):
            return caller
        try:
            changes = orjson.loads(await request.body())
        except orjson.JSONDecodeError:
            return graph_error(400, "invalidRequest", "The request body is not JSON")
        if not isinstance(changes, dict):
            return graph_error(400, "invalidRequest", "A fieldValueSet is a JSON object")
        with self.world.lock:
            item = self._list_item(request)
            if isinstance(item, Response):
                return item
            revenue = self._list(request)
            assert isinstance(revenue, RevenueList)  # the item was found in it
            item.fields.update(changes)
            item.modified, item.modified_by = utc_now(), str(caller.get("appid", "app"))
            revenue.changed(item)
            subscribed = self.world.subscriptions_on(revenue.resource, utc_now())
            answer = dict(item.fields)
        self._notifier.changed(subscribed)
        return JSONResponse(answer)

    async def _delta(self, request: Request) -> Response:
        if isinstance(caller := self._caller(request), Response):
            return caller
        query = request.query_params
        with self.world.lock:
            revenue = self._list(request)
            if isinstance(revenue, Response):
                return revenue
            base = f"{self._base_url}{request.url.path}"
            token = query.get("token")
            if token == "latest":  # noqa: S105 - Graph's keyword for "only the link, from now"
                return JSONResponse(
                    {"value": [], "@odata.deltaLink": _link(base, query, token=str(revenue.changes))}
                )
            since = int(token) if token and token.isdigit() else 0
            # Token 0 is an enumeration's own paging (its first call had none): it never expires.
            if token is not None and (not token.isdigit() or 0 < since < revenue.oldest_token):
                fresh = _link(base, query)
                message = "Resync required. Replace any local items with the server's version."
                return graph_error(410, "resyncRequired", message, headers={"Location": fresh})
            upto = int(query.get("upto", revenue.changes))
            skip = int(query.get("$skiptoken", "0"))
            top = max(1, min(int(query.get("$top", DEFAULT_PAGE)), 999))
            changed = revenue.changes_after(since, upto)
            page = changed[skip : skip + top]
            body: dict[str, Any] = {
                "@odata.context": f"{self._base_url}{API}/$metadata#Collection(listItem)",
                "value": [self._delta_json(request, item) for item in page],
            }
            if skip + top < len(changed):
                body["@odata.nextLink"] = _link(
                    base, query, token=str(since), upto=str(upto), skiptoken=str(skip + top)
                )
            else:
                body["@odata.deltaLink"] = _link(base, query, token=str(upto))
            return JSONResponse(body)

    async def _drive_item(self, request: Request) -> Response:
        if isinstance(caller := self._caller(request), Response):
            return caller
        with self.world.lock:
            item = self._list_item(request)
            if isinstance(item, Response):
                return item
            return JSONResponse(
                {
                    "id": f"01{item.id.zfill(8)}",
                    "name": item.file_name,
                    "cTag": item.ctag,
                    "eTag": item.etag,
                    "size": len(item.content),
                    "file": {"mimeType": "application/vnd.ms-excel.sheet.macroEnabled.12"},
                    "lastModifiedDateTime": graph_time(item.modified),
                }
            )

    async def _content(self, request: Request) -> Response:
        if isinstance(caller := self._caller(request), Response):
            return caller
        with self.world.lock:
            item = self._list_item(request)
            if isinstance(item, Response):
                return item
            token = secrets.token_urlsafe(16)
            self._downloads[token] = item.content
        return Response(status_code=302, headers={"Location": f"{self._base_url}{CONTROL}/downloads/{token}"})

    async def _download(self, request: Request) -> Response:
        """The pre-authenticated URL: no Authorization header, good for one download."""
        content = self._downloads.pop(request.path_params["token"], None)
        if content is None:
            return Response(status_code=404)
        return Response(content, media_type="application/octet-stream")

    async def _subscriptions(self, request: Request) -> Response:
        if isinstance(caller := self._caller(request), Response):
            return caller
        now = utc_now()
        if request.method == "GET":
            with self.world.lock:
                self.world.drop_expired(now)
                mine = [
                    s.as_json() for s in self.world.subscriptions.values() if s.application_id == _app(caller)
                ]
            return JSONResponse({"value": mine})
        try:
            asked = orjson.loads(await request.body())
            resource, change_type = str(asked["resource"]).strip("/"), str(asked["changeType"])
            url, expiration = str(asked["notificationUrl"]), _parse_time(str(asked["expirationDateTime"]))
            client_state = asked.get("clientState")
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as error:
            return graph_error(400, "InvalidRequest", f"The subscription request is not usable: {error}")
        if (problem := self._subscription_problem(resource, change_type, expiration, now)) is not None:
            return problem
        if client_state is not None and len(str(client_state)) > 128:
            return graph_error(400, "InvalidRequest", "clientState must be at most 128 characters")
        try:
            await validate_endpoint(url, secrets.token_urlsafe(24), self._verify)
        except ValidationFailedError as error:
            message = f"Subscription validation request failed: {error}. Notification endpoint must respond with 200 OK to validation request."
            return graph_error(400, "InvalidRequest", message)
        subscription = Subscription(
            str(uuid.uuid4()), resource, change_type, url,
            str(client_state) if client_state is not None else None, expiration, _app(caller),
        )  # fmt: skip
        with self.world.lock:
            self.world.subscriptions[subscription.id] = subscription
        return JSONResponse(subscription.as_json(), status_code=201)

    def _subscription_problem(
        self, resource: str, change_type: str, expiration: datetime, now: datetime
    ) -> Response | None:
        parts = resource.split("/")
        known = len(parts) == 4 and parts[0] == "sites" and parts[2] == "lists"
        if not known or self.world.revenue_list(parts[1], parts[3]) is None:
            return graph_error(404, "ResourceNotFound", f"Resource '{resource}' does not exist")
        if change_type != "updated":
            return graph_error(400, "InvalidRequest", "SharePoint lists support only changeType 'updated'")
        if expiration <= now:
            return graph_error(400, "InvalidRequest", "Subscription expiration must be in the future")
        if expiration > now + MAX_LIST_SUBSCRIPTION:
            return graph_error(
                400, "InvalidRequest", "Subscription expiration can only be 42300 minutes in the future."
            )
        return None

    async def _subscription(self, request: Request) -> Response:
        if isinstance(caller := self._caller(request), Response):
            return caller
        now = utc_now()
        body = await request.body()
        with self.world.lock:
            self.world.drop_expired(now)
            subscription = self.world.subscriptions.get(request.path_params["id"])
            if subscription is None or subscription.application_id != _app(caller):
                return graph_error(404, "ResourceNotFound", "The object was not found.")
            if request.method == "DELETE":
                del self.world.subscriptions[subscription.id]
                return Response(status_code=204)
            if request.method == "PATCH":
                try:
                    expiration = _parse_time(str(orjson.loads(body)["expirationDateTime"]))
                except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as error:
                    return graph_error(400, "InvalidRequest", f"The renewal is not usable: {error}")
                if expiration > now + MAX_LIST_SUBSCRIPTION or expiration <= now:
                    return graph_error(
                        400,
                        "InvalidRequest",
                        "Subscription expiration can only be 42300 minutes in the future.",
                    )
                subscription.expiration = expiration
            return JSONResponse(subscription.as_json())

    async def _send_mail(self, request: Request) -> Response:
        if isinstance(caller := self._caller(request), Response):
            return caller
        try:
            message = orjson.loads(await request.body())["message"]
            recipients = [r["emailAddress"]["address"] for r in message["toRecipients"]]
            subject = str(message["subject"])
        except (orjson.JSONDecodeError, KeyError, TypeError) as error:
            return graph_error(400, "ErrorInvalidRequest", f"The message is not usable: {error}")
        if not recipients:
            return graph_error(400, "ErrorInvalidRecipients", "At least one recipient is not valid.")
        with self.world.lock:
            self.world.sent_mail.append(
                {
                    "from": request.path_params["user"],
                    "to": recipients,
                    "subject": subject,
                    "message": message,
                }
            )
        return Response(status_code=202)

    # ── test controls ───────────────────────────────────────────────────────────────────────────

    async def _reset(self, request: Request) -> Response:
        self.world.reset()
        self._downloads.clear()
        return JSONResponse({"reset": True})

    async def _add_site(self, request: Request) -> Response:
        name = str(orjson.loads(await request.body())["name"])
        site = self.world.add_site(name)
        return JSONResponse(
            {"siteId": site.id, "listId": site.revenue.id, "name": name, "list": REVENUE_LIST}
        )

    async def _upload(self, request: Request) -> Response:
        """A submitter uploads the month's RSS: ``site``, ``period``, ``cash`` or ``unreadable``, ``by``."""
        asked = orjson.loads(await request.body())
        site_number, period = str(asked["site"]), str(asked["period"])
        content = (
            unreadable_workbook(site_number, period)
            if asked.get("unreadable")
            else rss_workbook(
                site_number, period, Decimal(str(asked["cash"])), seed=int(asked.get("seed", 0))
            )
        )
        now = utc_now()
        with self.world.lock:
            site = self.world.sites[request.path_params["site_id"]]
            revenue = site.revenue
            name = f"{site.name}REV{period[:4]} C{period[4:]}.xlsm"
            item = ListItem(
                id=str(revenue.next_item),
                fields={"Title": name, "Month": period[4:], "Year": period[:4], STATUS_FIELD: asked.get("status")},
                created_by=str(asked["by"]), modified_by=str(asked["by"]),
                created=now, modified=now, content=content, file_name=name,
            )  # fmt: skip
            revenue.next_item += 1
            revenue.items[item.id] = item
            revenue.changed(item)
            subscribed = self.world.subscriptions_on(revenue.resource, now)
        self._notifier.changed(subscribed)
        return JSONResponse({"itemId": item.id, "name": name, "cTag": item.ctag})

    async def _edit(self, request: Request) -> Response:
        """A person changes the item: ``fields`` to set, ``by`` whom, ``content`` replaced if ``cash`` given."""
        asked = orjson.loads(await request.body())
        with self.world.lock:
            site = self.world.sites[request.path_params["site_id"]]
            item = site.revenue.items[request.path_params["item_id"]]
            item.fields.update(asked.get("fields", {}))
            if "cash" in asked:
                period = f"{item.fields['Year']}{item.fields['Month']}"
                item.content = rss_workbook(site.name[2:], period, Decimal(str(asked["cash"])))
                item.content_version += 1
            item.modified, item.modified_by = utc_now(), str(asked["by"])
            site.revenue.changed(item)
            subscribed = self.world.subscriptions_on(site.revenue.resource, utc_now())
        self._notifier.changed(subscribed)
        return JSONResponse({"itemId": item.id, "cTag": item.ctag, "fields": item.fields})

    async def _expire_tokens(self, request: Request) -> Response:
        with self.world.lock:
            revenue = self.world.sites[request.path_params["site_id"]].revenue
            revenue.oldest_token = revenue.changes + 1
        return JSONResponse({"oldestToken": revenue.oldest_token})

    async def _notify_again(self, request: Request) -> Response:
        times = int(orjson.loads(await request.body() or b"{}").get("times", 1))
        with self.world.lock:
            revenue = self.world.sites[request.path_params["site_id"]].revenue
            subscribed = self.world.subscriptions_on(revenue.resource, utc_now())
        for _ in range(times):
            self._notifier.changed(subscribed)
        return JSONResponse({"subscriptions": len(subscribed), "times": times})

    async def _notifications(self, request: Request) -> Response:
        with self.world.lock:
            self.world.notifications_on = bool(orjson.loads(await request.body())["enabled"])
        return JSONResponse({"enabled": self.world.notifications_on})

    async def _move_expiry(self, request: Request) -> Response:
        moment = _parse_time(str(orjson.loads(await request.body())["expirationDateTime"]))
        with self.world.lock:
            subscription = self.world.subscriptions.get(request.path_params["id"])
            if subscription is None:
                return Response(status_code=404)
            subscription.expiration = moment
            return JSONResponse(subscription.as_json())

    async def _mail(self, request: Request) -> Response:
        with self.world.lock:
            return JSONResponse({"value": list(self.world.sent_mail)})

    async def _deliveries(self, request: Request) -> Response:
        with self.world.lock:
            return JSONResponse({"value": list(self.world.deliveries)})

    # ── shapes ──────────────────────────────────────────────────────────────────────────────────

    def _item_json(self, request: Request, item: ListItem, *, with_fields: bool) -> dict[str, Any]:
        site_id = request.path_params["site_id"]
        answer: dict[str, Any] = {
            "id": item.id,
            "eTag": item.etag,
            "createdDateTime": graph_time(item.created),
            "lastModifiedDateTime": graph_time(item.modified),
            "createdBy": {"user": {"displayName": item.created_by}},
            "lastModifiedBy": {"user": {"displayName": item.modified_by}},
            "parentReference": {"siteId": site_id, "id": request.path_params["list_id"]},
            "contentType": {"name": "Document"},
        }
        if with_fields:
            answer["fields"] = {"id": item.id, **item.fields}
        return answer

    def _delta_json(self, request: Request, item: ListItem) -> dict[str, Any]:
        if item.deleted:
            return {"id": item.id, "deleted": {"state": "deleted"}}
        return self._item_json(request, item, with_fields=_expands_fields(request))


def _expands_fields(request: Request) -> bool:
    expand = request.query_params.get("$expand", "") or request.query_params.get("expand", "")
    return "fields" in expand.split(",")


def _link(base: str, query: Any, **values: str) -> str:
    kept = {k: v for k, v in query.items() if k in ("$expand", "expand", "$top", "$select")}
    renamed = {("$skiptoken" if k == "skiptoken" else k): v for k, v in values.items()}
    return f"{base}?{urlencode({**kept, **renamed})}"


def _parse_time(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError(f"{text} has no time zone")
    return moment


def _app(claims: dict[str, Any]) -> str:
    return str(claims.get("appid") or claims.get("azp") or "")
