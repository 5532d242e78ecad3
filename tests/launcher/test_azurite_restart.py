"""Azurite stopped the way the launcher stops it keeps every write it acknowledged.

Its Table service saves its database every 5 s and on SIGINT, not on SIGTERM:
stopped with SIGTERM right after a write, it came back without it (found by
``make chaos``: a GP posting's last update lost across an Azurite restart).
"""

from __future__ import annotations

from pathlib import Path

from azure.data.tables import TableServiceClient

from localdev import services


def test_a_write_just_before_a_stop_is_there_after_the_restart(tmp_path: Path) -> None:
    port = services.free_port()
    spec = services.azurite_table(port, tmp_path / "azurite")
    connection = services.azurite_connection_string(services.free_port(), port)
    running = services.start(spec)
    try:
        table = TableServiceClient.from_connection_string(connection).create_table_if_not_exists("restarts")
        table.upsert_entity({"PartitionKey": "p", "RowKey": "r", "Status": "succeeded"})
    finally:
        running.stop()
    running = services.start(spec)
    try:
        table = TableServiceClient.from_connection_string(connection).get_table_client("restarts")
        assert table.get_entity("p", "r")["Status"] == "succeeded"
    finally:
        running.stop()
    assert running.process.returncode == 0
