"""``python -m localdev sync``: one sync run here, loaded here, against the local world."""

from __future__ import annotations

import pytest

from localdev.cli import main
from tests.fixtures.hub_host import HubHost


def test_sync_command_runs_loads_and_summarises(
    hub_host: HubHost, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name, value in hub_host.settings.items():
        monkeypatch.setenv(name, value)

    first = main(["sync", "master_customer_sites", "--load-here", "--wait", "30"])
    printed = capsys.readouterr()
    summary = printed.out
    again = main(["sync", "master_customer_sites", "--load-here", "--wait", "30"])
    rerun = capsys.readouterr().out

    assert first == 0, summary
    assert "status               succeeded" in summary
    assert "written              10 upserted, 0 deleted" in summary  # 12 sites, 2 without street or city
    # The run's progress, line by line on stderr, whole lines a pipe or a log keeps as they are.
    assert "\r" not in printed.out + printed.err
    progress = printed.err.splitlines()
    assert any(": reading master_customer_sites (incremental, attempt 1)" in line for line in progress)
    assert any(": batch 1 published; 12 read, " in line and " rows/s" in line for line in progress)
    assert any("stream=master_customer_sites mode=incremental read=12 " in line for line in progress)
    assert again == 0
    assert "staged (deletes)     0 (0) in 0 batches" in rerun


def test_unknown_stream_is_refused_with_the_known_names(
    hub_host: HubHost, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name, value in hub_host.settings.items():
        monkeypatch.setenv(name, value)

    assert main(["sync", "master_sites_typo"]) == 1
    assert "known: billable_expense_budgets" in capsys.readouterr().err
