"""One small sandbox SQL Server for the live EDW reads, its engine, and a plain SQLite view of the same files."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing

import pytest
from sqlalchemy import Engine

from localdev.sandbox_sql import SandboxSummary
from shared.sql.engines import TOWNE_PARK_DATABASES, sql_server_engine
from tests.sandbox_worlds import sandbox_world


@pytest.fixture(scope="session")
def edw_sandbox(tmp_path_factory: pytest.TempPathFactory, pytestconfig: pytest.Config) -> SandboxSummary:
    return sandbox_world(tmp_path_factory, pytestconfig, "edw-sandbox", sites=12, days=20, seed=7)


@pytest.fixture(scope="session")
def edw_engine(edw_sandbox: SandboxSummary) -> Iterator[Engine]:
    engine = sql_server_engine(edw_sandbox.url, None, 60)
    yield engine
    engine.dispose()


@pytest.fixture
def towne_park_sql(edw_sandbox: SandboxSummary) -> Iterator[sqlite3.Connection]:
    """The sandbox's files opened read-only with plain sqlite3, for Towne Park's SQL written by hand."""
    with closing(sqlite3.connect(":memory:")) as connection:
        for database in TOWNE_PARK_DATABASES:
            uri = (edw_sandbox.folder / f"{database}.sqlite").resolve().as_uri() + "?mode=ro"
            connection.execute(f"ATTACH DATABASE ? AS {database}", (uri,))
        yield connection


@pytest.fixture(scope="session")
def legion_site(edw_sandbox: SandboxSummary) -> str:
    """A site Legion stores unpadded ('276' for '0276'), as production does for '0170'."""
    return edw_sandbox.legion_unpadded_sites[0]
