"""The reconciliation timer's work: last month reconciled, one alerting log line per planted difference."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import date

import pytest
from sqlalchemy import Engine, create_engine

from localdev.billing_month import Planted
from localdev.sandbox_gp.company import company_path
from shared.connectors.dataverse.client import DataverseClient
from shared.telemetry import names
from shared.workflows.billing.desk import BillingChecks
from shared.workflows.billing.month_end import last_month, reconcile_last_month
from tests.fixtures.gp_sandbox import GpSandbox

pytestmark = pytest.mark.services


@pytest.fixture
def checks(dataverse: DataverseClient, gp_sandbox: GpSandbox) -> Iterator[BillingChecks]:
    engines: dict[str, Engine] = {}

    def engine(company: str) -> Engine:
        return engines.setdefault(
            company, create_engine(f"sqlite:///{company_path(gp_sandbox.folder, company)}")
        )

    yield BillingChecks(dataverse, engine, ("TOWNE", "ENC", "UPP"))
    for built in engines.values():
        built.dispose()


def test_a_run_after_the_billing_window_raises_each_difference_of_last_month_once(
    checks: BillingChecks, planted: Planted, caplog: pytest.LogCaptureFixture
) -> None:
    after_the_window = date(2033, 6, 6)
    assert last_month(after_the_window) == planted.period

    with caplog.at_level(logging.INFO, logger="shared.workflows.billing.month_end"):
        reconcile_last_month(checks, after_the_window)

    raised = [
        (record.args[2], getattr(record, names.BILLING_DIFFERENCE))  # type: ignore[index]
        for record in caplog.records
        if record.levelno == logging.ERROR and getattr(record, "alert", False)
    ]
    assert sorted(raised) == sorted(planted.differences.items())
    summary = [record.getMessage() for record in caplog.records if record.levelno == logging.INFO]
    assert summary == [
        f"Billing reconciliation {planted.period}: 7 lines, 1 amount-differs, 1 in-gp-twice, "
        "1 posted-without-statement, 1 sent-not-in-gp"
    ]
