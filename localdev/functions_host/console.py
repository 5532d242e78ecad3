"""The host's log on stdout, shaped like Core Tools': ``[2024-05-01T09:30:00.123Z] message``.

The app's own ``logging`` calls land in the same stream, as they do under
``func start``; the Azure SDKs and the web server speak only about problems.
"""

from __future__ import annotations

import io
import logging
import sys
from datetime import UTC, datetime

HOST_LOGGER = "Host"
_QUIET_LOGGERS = ("azure", "uamqp", "uvicorn", "uvicorn.error", "uvicorn.access")


class _CoreToolsFormatter(logging.Formatter):
    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802 - logging's name
        moment = datetime.fromtimestamp(record.created, UTC)
        return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def configure() -> logging.Logger:
    """Send every log record to stdout, line by line, and return the host's own logger."""
    if isinstance(sys.stdout, io.TextIOWrapper):
        sys.stdout.reconfigure(line_buffering=True)  # a parent process reads this log as it happens
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(_CoreToolsFormatter("[%(asctime)s] %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    for name in _QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    return logging.getLogger(HOST_LOGGER)
