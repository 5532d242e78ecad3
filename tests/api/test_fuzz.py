"""The short fuzz of ``make test``: schemathesis's fuzzing phase over the served document, on the host.

``make fuzz`` is the long run (at least 10,000 requests, every phase); this one
sends a few generated requests to every operation, so a change that makes any
operation answer a 5xx, an undocumented status, a body off its schema or no
answer at all fails the suite, not only the next long run.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from localdev.fuzz import fuzz
from tests.fixtures.hub_host import FUNCTION_KEY, HubHost

pytestmark = pytest.mark.services


@pytest.mark.slow(45)
@pytest.mark.hub_settings({"API_RATE_LIMIT_PER_MINUTE": "10000"})  # the limiter is tested on its own
def test_a_short_fuzz_finds_no_5xx_no_schema_violation_and_no_hang(hub_host: HubHost, tmp_path: Path) -> None:
    result = fuzz(
        hub_host.base_url,
        FUNCTION_KEY,
        examples=4,
        per_minute=None,
        request_timeout=20,
        reports=tmp_path,
        phases="fuzzing",
        seed=20261203,
    )
    assert result.operations >= 21 and result.requests >= 60, result
    assert (result.server_errors, result.failures, result.timeouts) == (0, 0, 0), result.line()
    assert result.exit_code == 0, result.line()
