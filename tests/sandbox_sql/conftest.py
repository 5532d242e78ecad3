"""One small sandbox SQL Server (40 sites, 20 payroll days), built once for the tests in this folder."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest

from localdev.sandbox_sql import SandboxSummary
from shared.sql.engines import TOWNE_PARK_DATABASES
from tests.sandbox_worlds import sandbox_world


@pytest.fixture(scope="session")
def small_sandbox(tmp_path_factory: pytest.TempPathFactory, pytestconfig: pytest.Config) -> SandboxSummary:
    return sandbox_world(tmp_path_factory, pytestconfig, "sandbox-sql", sites=40, days=20, seed=7)


def read_only(folder: Path) -> sqlite3.Connection:
    """A plain SQLite connection with every Towne Park database of ``folder`` attached, read-only."""
    connection = sqlite3.connect(":memory:", uri=True)
    for database in TOWNE_PARK_DATABASES:
        uri = (folder / f"{database}.sqlite").resolve().as_uri() + "?mode=ro"
        connection.execute(f"ATTACH DATABASE ? AS {database}", (uri,))
    return connection


@pytest.fixture
def databases(small_sandbox: SandboxSummary) -> Iterator[sqlite3.Connection]:
    with closing(read_only(small_sandbox.folder)) as connection:
        yield connection
