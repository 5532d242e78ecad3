"""A request to run a sync: as the engine takes it, and as it travels on the sync-requests queue."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from shared.pipeline.run_record import RunMode
from shared.pipeline.stream import ReadWindow


@dataclass(frozen=True)
class SyncRequest:
    """One run of one stream. ``run_id`` names a queued run to claim; without it the engine makes one."""

    stream: str
    mode: RunMode = RunMode.INCREMENTAL
    trigger: str = "manual"
    window: ReadWindow | None = None
    replay_of: str | None = None
    run_id: str | None = None


class SyncRequestMessage(BaseModel):
    """The body of a sync-requests message. Unknown fields are refused: a typo must not run a full sync."""

    model_config = ConfigDict(extra="forbid")

    stream: str = Field(min_length=1)
    mode: RunMode = RunMode.INCREMENTAL
    trigger: str = "queue"
    window_start: date | datetime | int | None = None
    window_end: date | datetime | int | None = None
    replay_of: str | None = None
    run_id: str | None = None
    then: list[str] = Field(default_factory=list)  # the sync's later streams, queued when this one is staged

    def to_request(self) -> SyncRequest:
        window = None
        if self.mode is RunMode.BACKFILL:
            window = ReadWindow(start=self.window_start, end=self.window_end)
        return SyncRequest(
            stream=self.stream,
            mode=self.mode,
            trigger=self.trigger,
            window=window,
            replay_of=self.replay_of,
            run_id=self.run_id,
        )
