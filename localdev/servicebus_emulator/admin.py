"""The emulator's admin port: switch faults on and off over HTTP, as the sandboxes' admin endpoints do.

Service Bus has no such surface, so it is a separate loopback port
(``--admin-port``), served by the standard library's ``http.server`` on a
thread of its own: importing an ASGI stack would slow every emulator start,
and the switch it sets is thread-safe, so it never touches the broker.

- ``POST /admin/faults`` ``{"fault": "duplicate_delivery", "queue": "batch-loads", "count", "fraction",
  "seed"}`` (``queue`` optional: every entity when left out) arms the switch;
- ``GET /admin/faults`` shows it: ``{"duplicate_delivery": {"countLeft", "fraction", "struck", "queue"},
  "duplicatesByQueue": {"batch-loads": 3}}``;
- ``DELETE /admin/faults`` disarms it and zeroes the counts.
"""

from __future__ import annotations

import json
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from localdev.outage import FaultSetting
from localdev.servicebus_emulator.faults import DuplicateDeliveries

FAULTS_PATH = "/admin/faults"


def serve_admin(duplicates: DuplicateDeliveries, port: int, host: str = "127.0.0.1") -> None:
    """Listen on ``port`` and serve on a daemon thread, which ends with the process."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self._known():
                self._answer(HTTPStatus.OK, duplicates.as_json())

        def do_DELETE(self) -> None:
            if self._known():
                duplicates.clear()
                self._answer(HTTPStatus.OK, duplicates.as_json())

        def do_POST(self) -> None:
            if not self._known():
                return
            try:
                length = int(self.headers.get("Content-Length") or 0)
                document = json.loads(self.rfile.read(length) or b"{}")
                if not isinstance(document, dict):
                    raise TypeError("the body must be a JSON object")
                queue = document.get("queue")
                if queue is not None and not isinstance(queue, str):
                    raise TypeError("queue must be a string")
                duplicates.configure(str(document.get("fault")), queue, FaultSetting.from_json(document))
            except (json.JSONDecodeError, TypeError, ValueError) as error:
                self._answer(HTTPStatus.BAD_REQUEST, {"error": f"fault not usable: {error}"})
                return
            self._answer(HTTPStatus.OK, duplicates.as_json())

        def _known(self) -> bool:
            if self.path.split("?")[0] == FAULTS_PATH:
                return True
            self._answer(HTTPStatus.NOT_FOUND, {"error": f"only {FAULTS_PATH} is served here"})
            return False

        def _answer(self, status: HTTPStatus, document: dict[str, Any]) -> None:
            body = json.dumps(document).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: the emulator's log is for the broker."""

    server = ThreadingHTTPServer((host, port), Handler)
    threading.Thread(target=server.serve_forever, name="servicebus-admin", daemon=True).start()
