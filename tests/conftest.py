"""Registers every fixture module in ``tests/fixtures`` as a plugin, and runs the slow tests first.

``make test`` spreads the tests over pytest-xdist workers (``--dist load``,
``--maxschedchunk 1``: each worker holds the test it runs and the next one, and
takes another from the shared queue when one ends). A test marked
``slow(seconds)`` mostly waits on services, so it is started first, longest
first, while the short tests fill the other workers; at the front of the
queue a short test stands between two slow ones, so no worker begins with
two of them in hand.
"""

import os
from pathlib import Path

import pytest

from shared.settings import IGNORE_LOCAL_SETTINGS

# Tests and the hosts they start take their settings from what each test gives them, never from a
# developer's local.settings.json (shared/settings.py).
os.environ[IGNORE_LOCAL_SETTINGS] = "true"

pytest_plugins = sorted(
    f"tests.fixtures.{module.stem}"
    for module in (Path(__file__).parent / "fixtures").glob("*.py")
    if module.stem != "__init__"
)


def _expected_seconds(item: pytest.Item) -> float:
    marker = item.get_closest_marker("slow")
    return float(marker.args[0]) if marker else 0.0


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    slow = sorted((item for item in items if _expected_seconds(item)), key=_expected_seconds, reverse=True)
    short = [item for item in items if not _expected_seconds(item)]
    workers = int(getattr(config, "workerinput", {}).get("workercount", 1))
    heads = min(workers, len(slow), len(short))
    paired = [item for pair in zip(slow[:heads], short[:heads], strict=True) for item in pair]
    items[:] = paired + slow[heads:] + short[heads:]
