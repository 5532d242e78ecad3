"""The request and response shapes the API core works with, independent of the Functions SDK."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import orjson

JSON_TYPE = "application/json"
HOST_PARAMETERS = ("code",)  # the function key, which the Functions host reads from the query


@dataclass(frozen=True)
class ApiRequest:
    """One HTTP call as the core sees it; header names are lower case."""

    method: str
    path: str
    headers: Mapping[str, str] = field(default_factory=dict)
    query: Mapping[str, str] = field(default_factory=dict)
    route: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""
    scheme: str = "https"  # how the caller reached the host: http on a local host, https on Azure

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    @property
    def host(self) -> str | None:
        """The host (and port) the caller addressed: what links back to the API must name."""
        return self.header("x-forwarded-host") or self.header("host")

    def link(self, path: str) -> str:
        """``path`` as an absolute URL on the host the caller addressed (relative when that is unknown).

        Power Automate follows a page's nextLink as it is, so it must name the host.
        """
        return f"{self.scheme}://{self.host}{path}" if self.host else path

    @property
    def app_query(self) -> dict[str, str]:
        """The query parameters meant for the hub: the Functions host's own (the key) left out."""
        return {name: value for name, value in self.query.items() if name not in HOST_PARAMETERS}


@dataclass(frozen=True)
class ApiResponse:
    status: int
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)
    content_type: str = JSON_TYPE

    def with_headers(self, **extra: str) -> ApiResponse:
        return ApiResponse(self.status, self.body, {**self.headers, **extra}, self.content_type)


def json_response(status: int, value: object, headers: Mapping[str, str] | None = None) -> ApiResponse:
    return ApiResponse(status, orjson.dumps(value), dict(headers or {}))
