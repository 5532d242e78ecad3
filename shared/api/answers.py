"""The successful answers handlers give: a model as JSON, and 202 with the status URL to poll."""

from __future__ import annotations

import orjson
from pydantic import BaseModel

from shared.api import models
from shared.api.http import ApiResponse

POLL_SECONDS = 10


def ok(model: BaseModel, status: int = 200) -> ApiResponse:
    return ApiResponse(status, orjson.dumps(model.model_dump(mode="json", exclude_none=True)))


def accepted(view: BaseModel, location: str) -> ApiResponse:
    """202 with the status URL to poll and how long to wait: the pattern every long-running call follows."""
    return ok(view, 202).with_headers(Location=location, **{"Retry-After": str(POLL_SECONDS)})


def run_accepted(run: models.Run) -> ApiResponse:
    return accepted(run, f"/api/v1/runs/{run.id}")
