"""Sandbox SQL worlds built once per test session, each worker given a copy of its own.

A build is deterministic (same sites, days and seed, same rows) but costs two
spawned processes and tens of seconds of CPU on a loaded machine; under
pytest-xdist every worker used to build each world it needed, up to six times
over. The first worker to need a world builds it in the session's shared
temporary folder, under a file lock; every worker then copies the files, so a
test that writes to its sandbox (the hub's forecast snapshots) still writes to
its worker's own.
"""

from __future__ import annotations

import dataclasses
import pickle
import shutil

import pytest
from filelock import FileLock

from localdev.sandbox_sql import SandboxSummary, build_sandbox
from localdev.sandbox_sql.build import is_current, sandbox_url

_SUMMARY = "summary.pickle"


def sandbox_world(
    factory: pytest.TempPathFactory,
    config: pytest.Config,
    name: str,
    *,
    sites: int,
    days: int,
    seed: int,
) -> SandboxSummary:
    """This worker's copy of the world of ``sites`` sites and ``days`` days from ``seed``, built once per session."""
    session = factory.getbasetemp()
    if hasattr(config, "workerinput"):  # a worker's basetemp is one folder of the session's
        session = session.parent
    shared = session / "sandbox-worlds"
    shared.mkdir(exist_ok=True)
    built = shared / f"sites{sites}-days{days}-seed{seed}"
    with FileLock(str(built) + ".lock"):
        if not (is_current(built) and (built / _SUMMARY).exists()):
            summary = build_sandbox(built, sites=sites, days=days, seed=seed)
            (built / _SUMMARY).write_bytes(pickle.dumps(summary))
    original: SandboxSummary = pickle.loads((built / _SUMMARY).read_bytes())
    folder = factory.mktemp(name)
    for path in built.iterdir():
        if path.is_file() and path.name != _SUMMARY:
            shutil.copy2(path, folder / path.name)
    return dataclasses.replace(original, folder=folder, url=sandbox_url(folder))
