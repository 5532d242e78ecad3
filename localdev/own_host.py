"""A Functions host of a tool's own over the world ``make run`` provides, with a few settings changed.

``make fuzz`` and ``make load`` measure the API with the rate limiter raised
(or as configured) without touching the developer's running host or their
``local.settings.json``: the host gets a settings file of its own in the
tool's temporary folder and a free port, and is stopped when the tool ends.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from localdev import services
from shared.settings import LOCAL_SETTINGS_FILE


def local_values() -> dict[str, Any]:
    """The app settings of ``local.settings.json`` (``make run`` writes it on first run)."""
    if not LOCAL_SETTINGS_FILE.exists():
        raise SystemExit(f"{LOCAL_SETTINGS_FILE.name} is missing: start `make run` once first")
    values: dict[str, Any] = json.loads(LOCAL_SETTINGS_FILE.read_text(encoding="utf-8"))["Values"]
    return values


@contextmanager
def own_host(settings: Mapping[str, Any], folder: Path, name: str = "own-host") -> Iterator[str]:
    """The host on a free port with ``settings``, its log in ``folder``; yields its base URL."""
    settings_file = folder / f"{name}.settings.json"
    settings_file.write_text(json.dumps({"IsEncrypted": False, "Values": dict(settings)}), encoding="utf-8")
    port = services.free_port()
    spec = services.python_module(
        name,
        "localdev.functions_host",
        port,
        ["--app-dir", str(services.REPO), "--port", str(port), "--settings", str(settings_file)],
        folder / f"{name}.log",
    )
    running = services.start(spec)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        running.stop()
