"""Every stream the hub syncs, gathered from the connectors into one catalog."""

from __future__ import annotations

from shared.pipeline.stream import StreamCatalog


def hub_streams() -> StreamCatalog:
    return StreamCatalog()
