"""How long the hub waits on storage and Service Bus: briefly for an API caller, patiently for a trigger.

Table storage (run records, postings, stream state) is waited on as Blob is.

An API caller (a Power Automate flow, an operator's script) is better served
by 503 with ``Retry-After`` within seconds than by an answer a minute and a
half later: its own retry policy waits and calls again, and no worker thread
is held while a dependency is down. A trigger extracting or loading a batch
has minutes of message lock and nobody waiting on the line, so it rides out a
short blip inside one delivery instead of spending a delivery on it.

The numbers, per platform call:

* API callers, Blob: connect 2 s, read 3 s (state documents, run records and
  audit lines are a few KB; Azure answers them in milliseconds), one retry
  after 0-2 s. A stopped service fails a call in at most 2 s (the connection
  is refused at once); a hung one in at most 2 x 3 + 2 = 8 s.
* API callers, Service Bus: no SDK retry and 4 s per attempt (an AMQP link
  opens in well under a second in one region; 4 s leaves room for a cold
  worker's first token). ``ServiceBus.publish_many`` already opens a fresh
  sender and sends once more when a send fails, which is the one retry; SDK
  retries on top would multiply it. A stopped namespace fails a publish at
  once, a hung one in at most 2 x 4 = 8 s.
* Triggers: the SDKs' own defaults, written out so they are seen: Blob
  connect 20 s, read 60 s, three retries after about 15, 18 and 24 s; Service
  Bus three retries after 1.6, 3.2 and 6.4 s, each attempt bounded at 60 s.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from azure.storage.blob import ExponentialRetry, LinearRetry


@dataclass(frozen=True)
class BlobPatience:
    """Time-outs for one attempt of a Blob call, and the SDK retry policy between attempts."""

    connect_seconds: int
    read_seconds: int
    retry: ExponentialRetry | LinearRetry  # shareable: the policy keeps its counters per request

    def client_options(self) -> dict[str, Any]:
        """Keyword arguments for ``BlobServiceClient`` (and ``from_connection_string``)."""
        return {
            "connection_timeout": self.connect_seconds,
            "read_timeout": self.read_seconds,
            "retry_policy": self.retry,
        }

    def table_options(self) -> dict[str, Any]:
        """The same patience for the account's Table service (azure-core's retry, as many retries)."""
        return {
            "connection_timeout": self.connect_seconds,
            "read_timeout": self.read_seconds,
            "retry_total": self.retry.total_retries,
        }


@dataclass(frozen=True)
class BusPatience:
    """SDK retries of a Service Bus operation, the back-off between them, and the bound on each attempt."""

    retries: int
    backoff_seconds: float
    backoff_max_seconds: float
    attempt_seconds: float

    def client_options(self) -> dict[str, Any]:
        """Keyword arguments for ``ServiceBusClient`` (and ``from_connection_string``)."""
        return {
            "retry_total": self.retries,
            "retry_backoff_factor": self.backoff_seconds,
            "retry_backoff_max": self.backoff_max_seconds,
            "try_timeout": self.attempt_seconds,
        }


@dataclass(frozen=True)
class Patience:
    blob: BlobPatience
    bus: BusPatience


FOR_API_CALLERS = Patience(
    blob=BlobPatience(2, 3, LinearRetry(backoff=1, random_jitter_range=1, retry_total=1)),
    bus=BusPatience(retries=0, backoff_seconds=0.5, backoff_max_seconds=0.5, attempt_seconds=4),
)
FOR_TRIGGERS = Patience(
    blob=BlobPatience(20, 60, ExponentialRetry(initial_backoff=15, increment_base=3, retry_total=3)),
    bus=BusPatience(retries=3, backoff_seconds=0.8, backoff_max_seconds=120, attempt_seconds=60),
)
