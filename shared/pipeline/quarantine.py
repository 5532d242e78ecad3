"""Bad rows: set aside with the rule they broke, so one bad row never stops the rest of a run.

A stream allows a number of bad rows per run. Past it, the source is more
likely broken than the rows, and the run fails with a clear error instead of
loading a fraction of the data.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson
from azure.storage.blob import ContentSettings
from pydantic import ValidationError

from shared.platform.blob_store import BlobStore

_JSON_LINES = ContentSettings(content_type="application/x-ndjson")


class TooManyBadRowsError(Exception):
    """More rows failed validation than the stream allows."""


def reasons(error: ValidationError) -> list[str]:
    """Each broken rule as ``field: message``, without the offending value (it may be personal data)."""
    return [
        f"{'.'.join(str(part) for part in item['loc']) or 'row'}: {item['msg']}"
        for item in error.errors(include_input=False, include_url=False)
    ]


@dataclass
class Quarantine:
    stream: str
    limit: int
    rows: list[dict[str, Any]] = field(default_factory=list)

    def add(self, row: Mapping[str, Any], why: list[str], row_number: int) -> None:
        self.rows.append({"row_number": row_number, "reasons": why, "row": dict(row)})
        if len(self.rows) > self.limit:
            raise TooManyBadRowsError(
                f"stream '{self.stream}': more than {self.limit} rows failed validation "
                f"(latest at row {row_number}: {'; '.join(why)}); check the source before rerunning"
            )

    def write(self, store: BlobStore, run_id: str) -> str | None:
        """Store the bad rows next to the run's batches; None when there were none."""
        if not self.rows:
            return None
        path = f"quarantine/{self.stream}/{run_id}.jsonl"
        lines = b"\n".join(orjson.dumps(row, default=str) for row in self.rows) + b"\n"
        store.put(path, lines, content_settings=_JSON_LINES)
        return path
