"""``/v1/runs``: a run polled to its result, pages of runs, and replaying a run's staged batches."""

from __future__ import annotations

from urllib.parse import quote

from shared.api import models
from shared.api.answers import ok, run_accepted
from shared.api.calls import ApiServices, Call
from shared.api.http import ApiResponse
from shared.api.problems import ProblemError


def get_run(services: ApiServices, call: Call) -> ApiResponse:
    run = services.syncs.runs.get(call.path.id)
    if run is None:
        raise ProblemError(404, "run-not-found", f"There is no run '{call.path.id}'.")
    if run.status in ("queued", "running", "retrying", "loading"):
        return run_accepted(run)
    return ok(run)


def list_runs(services: ApiServices, call: Call) -> ApiResponse:
    query: models.RunQuery = call.query
    runs, token = services.syncs.runs.page(query)
    next_link = None
    if token is not None:
        params = {**query.model_dump(mode="json", exclude_none=True), "continuationToken": token}
        next_link = call.request.link(
            "/api/v1/runs?"
            + "&".join(f"{name}={quote(str(value), safe='')}" for name, value in params.items())
        )
    return ok(models.RunPage(value=runs, continuation_token=token, next_link=next_link))


def replay_run(services: ApiServices, call: Call) -> ApiResponse:
    return run_accepted(services.syncs.replay(call.path.id, call.caller.who))
