"""Live reads of the EDW served as ``GET /api/v1/edw/{name}``: validated parameters, ETags, a short cache.

A read's data changes at most daily, and a billing screen asks for the same
site and month many times while a person works; a few minutes' cache in the
worker and an ``ETag`` (a hash of the body) spare the EDW those repeats, and
``If-None-Match`` lets a caller skip the body when nothing changed.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import orjson
from pydantic import BaseModel, ValidationError
from sqlalchemy import Engine

from shared.api.http import ApiResponse
from shared.api.problems import ProblemError, validation_problem

_CACHE_LIMIT = 500


class LiveRead(Protocol):
    """What ``shared/live_reads/reads.py`` declares for each read."""

    @property
    def name(self) -> str: ...
    @property
    def summary(self) -> str: ...
    @property
    def description(self) -> str: ...
    @property
    def params(self) -> type[BaseModel]: ...
    @property
    def row(self) -> type[BaseModel]: ...
    @property
    def cache_seconds(self) -> int: ...
    def run(self, engine: Engine, params: Any) -> Sequence[BaseModel]: ...


@dataclass(frozen=True)
class _Answer:
    body: bytes
    etag: str
    expires: float


class LiveReads:
    """Serves the declared reads from one EDW engine, caching each answer for its read's ``cache_seconds``."""

    def __init__(
        self,
        reads: Sequence[LiveRead],
        engine: Callable[[], Engine],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.reads = {read.name: read for read in reads}
        self._engine = engine
        self._clock = clock
        self._cache: dict[tuple[str, bytes], _Answer] = {}
        self._guard = threading.Lock()

    def answer(self, name: str, query: Mapping[str, str], if_none_match: str | None) -> ApiResponse:
        read = self.reads.get(name)
        if read is None:
            known = ", ".join(sorted(self.reads)) or "none"
            raise ProblemError(404, "read-not-found", f"There is no live read '{name}' (known: {known}).")
        try:
            params = read.params.model_validate(dict(query))
        except ValidationError as error:
            raise validation_problem(error, "query") from None
        key = (name, orjson.dumps(params.model_dump(mode="json"), option=orjson.OPT_SORT_KEYS))
        answer = self._cached(key) or self._fresh(read, params, key)
        headers = {"ETag": answer.etag, "Cache-Control": f"private, max-age={read.cache_seconds}"}
        if if_none_match is not None and _matches(if_none_match, answer.etag):
            return ApiResponse(304, b"", headers)
        return ApiResponse(200, answer.body, headers)

    def _cached(self, key: tuple[str, bytes]) -> _Answer | None:
        with self._guard:
            answer = self._cache.get(key)
        return answer if answer is not None and answer.expires > self._clock() else None

    def _fresh(self, read: LiveRead, params: BaseModel, key: tuple[str, bytes]) -> _Answer:
        rows = read.run(self._engine(), params)
        body = orjson.dumps({"value": [row.model_dump(mode="json", by_alias=True) for row in rows]})
        etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        answer = _Answer(body, etag, self._clock() + read.cache_seconds)
        if read.cache_seconds > 0:
            with self._guard:
                if len(self._cache) >= _CACHE_LIMIT:
                    now = self._clock()
                    for stale in [k for k, v in self._cache.items() if v.expires <= now] or list(self._cache)[
                        :1
                    ]:
                        del self._cache[stale]
                self._cache[key] = answer
        return answer


def _matches(if_none_match: str, etag: str) -> bool:
    """RFC 9110 weak comparison: ``*`` or any listed tag, with or without ``W/``."""
    tags = [tag.strip().removeprefix("W/") for tag in if_none_match.split(",")]
    return "*" in tags or etag in tags
