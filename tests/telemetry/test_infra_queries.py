"""The alerts and workbook in ``infra/`` read only what the code emits, and the lag thresholds follow the schedules.

No Bicep compiler runs here, so the Bicep files are read as text: the KQL
out of their strings (``tests/telemetry/kql.py``), the lag thresholds out of
``alerts.bicep``, the settings that switch telemetry on out of ``api.bicep``.
Each check is shown to fail on a name changed on one side only.
"""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import pytest

from shared.api.operations import HEALTH_OPERATIONS
from shared.connectors.syncs import SYNCS
from shared.settings import APP_ROOT
from shared.telemetry import names
from shared.telemetry.lag import RETRY_BUDGET, lag_threshold
from tests.telemetry.kql import Catalogue, queries_in, unknown_names

INFRA = APP_ROOT / "infra"
ALERTS = INFRA / "app" / "alerts.bicep"
WORKBOOK = INFRA / "app" / "workbook.bicep"
# Service Bus platform metrics and their dimensions (Azure Monitor's "Supported metrics -
# Microsoft.ServiceBus/Namespaces"), for the rules and charts that read them directly.
SERVICE_BUS_METRICS = {
    "DeadletteredMessages": {"EntityName"},
    "ThrottledRequests": {"EntityName", "OperationResult", "MessagingErrorSubCode"},
}


def problems_in(bicep: str, catalogue: Catalogue | None = None) -> list[str]:
    known = catalogue or Catalogue.from_code()
    return [problem for query in queries_in(bicep) for problem in unknown_names(query, known)]


def text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def test_every_query_in_infra_names_only_what_the_code_emits() -> None:
    counted = {path.name: len(queries_in(text(path))) for path in INFRA.rglob("*.bicep")}
    assert counted["alerts.bicep"] >= 6  # the extraction finds the rules' queries
    assert counted["workbook.bicep"] >= 15
    assert {path.name: problems_in(text(path)) for path in INFRA.rglob("*.bicep")} == {
        path.name: [] for path in INFRA.rglob("*.bicep")
    }


def test_the_workbook_no_longer_groups_by_a_connector_dimension_nothing_writes() -> None:
    assert problems_in("'''\nrequests\n| extend c = tostring(customDimensions[\"connector\"])\n'''") == [
        "span attribute 'connector' is not an attribute key names.py declares"
    ]
    assert "connector" not in text(WORKBOOK)


def test_a_metric_renamed_in_the_bicep_is_reported() -> None:
    renamed = text(ALERTS).replace('"hub.sync.runs"', '"hub.sync.run_count"')
    assert "metric 'hub.sync.run_count' is not a metric names.py declares" in problems_in(renamed)


def test_a_metric_renamed_in_the_code_is_reported() -> None:
    catalogue = Catalogue.from_code()
    metrics = dict(catalogue.metrics)
    metrics["hub.sync.run_count"] = metrics.pop(names.RUNS_SETTLED.name)
    renamed = dataclasses.replace(catalogue, metrics=metrics)
    assert "metric 'hub.sync.runs' is not a metric names.py declares" in problems_in(text(ALERTS), renamed)


def test_a_dimension_renamed_in_the_bicep_is_reported() -> None:
    renamed = text(WORKBOOK).replace('customDimensions["hub.row_stage"]', 'customDimensions["hub.stage"]')
    assert "dimension 'hub.stage' is not one that hub.sync.rows carries" in problems_in(renamed)


def test_a_dimension_renamed_in_the_code_is_reported() -> None:
    catalogue = Catalogue.from_code()
    renamed = dataclasses.replace(catalogue, attributes=catalogue.attributes - {names.ERROR_CLASS})
    assert "span attribute 'hub.error_class' is not an attribute key names.py declares" in problems_in(
        text(WORKBOOK), renamed
    )


def test_a_dimension_the_metric_does_not_carry_is_reported() -> None:
    query = """'''
customMetrics
| where name == "hub.sync.runs"
| extend error_class = tostring(customDimensions["hub.error_class"])
'''"""
    assert problems_in(query) == ["dimension 'hub.error_class' is not one that hub.sync.runs carries"]


def test_a_span_renamed_in_the_bicep_is_reported() -> None:
    renamed = text(WORKBOOK).replace('"batch load"', '"batch_load"')
    assert "span 'batch_load' is not a span names.py declares" in problems_in(renamed)


def test_an_outcome_the_code_does_not_record_is_reported() -> None:
    renamed = text(ALERTS).replace('"partially_failed"', '"partial"')
    assert problems_in(renamed) == ["hub.outcome 'partial' is not a value the code records for hub.sync.runs"]
    refused = text(ALERTS).replace('("refused", "rejected")', '("refused", "failed")')
    assert problems_in(refused) == [
        "hub.outcome 'failed' is not a value the code records for hub.gp.documents"
    ]


def test_a_log_dimension_the_code_does_not_write_is_reported() -> None:
    renamed = text(WORKBOOK).replace('customDimensions["hub.run_id"]', 'customDimensions["run_id"]')
    assert problems_in(renamed) == ["log dimension 'run_id' is not an attribute key names.py declares"]


def test_every_alert_reads_a_metric_or_span_the_code_emits() -> None:
    catalogue = Catalogue.from_code()
    for query in queries_in(text(ALERTS)):
        named = set(re.findall(r'"([^"]+)"', query))
        reads_hub_telemetry = named & (set(catalogue.metrics) | catalogue.spans)
        assert reads_hub_telemetry or query.startswith("requests | where success == false"), query
    platform = re.findall(r"metricName: '(\w+)'[\s\S]*?dimensions: \[\s*\{\s*name: '(\w+)'", text(ALERTS))
    assert platform == [("DeadletteredMessages", "EntityName")]
    assert all(dimension in SERVICE_BUS_METRICS[metric] for metric, dimension in platform)


def test_each_log_alert_splits_and_measures_by_columns_its_query_projects() -> None:
    bicep = text(ALERTS)
    queries = dict(re.findall(r"^var (\w+Query) = '''\n(.*?)'''", bicep, re.MULTILINE | re.DOTALL))
    entries = re.findall(
        r"query: (?:(\w+Query)|'[^\n]*\$\{(\w+Query)\}')\n\s*aggregation: '\w+'\n\s*measure: '(\w+)'\n"
        r"\s*dimensions: \[([^\]]*)\]",
        bicep,
    )
    inline = dict(re.findall(r"^var (\w+Query) = '([^'\n]*)'$", bicep, re.MULTILINE))
    assert len(entries) == 7  # one per log alert, the billing differences among them
    for direct, wrapped, measure, dimensions in entries:
        query = queries.get(direct or wrapped) or inline[direct or wrapped]
        last_line = query.strip().splitlines()[-1]
        for column in [measure, *re.findall(r"'(\w+)'", dimensions)]:
            assert re.search(rf"\b{column}\b", last_line), (column, last_line)


def test_the_workbook_charts_read_service_bus_metrics_that_exist() -> None:
    charted = re.findall(r"'microsoft\.servicebus/namespaces--(\w+)'", text(WORKBOOK))
    assert charted and set(charted) <= set(SERVICE_BUS_METRICS)


def bicep_lag_thresholds() -> dict[str, int]:
    bicep = text(ALERTS)
    start = bicep.index("var streamLagThresholdSeconds = {")
    block = bicep[start : bicep.index("}", start)]
    return {stream: int(seconds) for stream, seconds in re.findall(r"^\s*(\w+): (\d+)$", block, re.MULTILINE)}


@pytest.mark.slow(30)
def test_the_bicep_lag_thresholds_are_the_rule_applied_to_each_scheduled_stream() -> None:
    expected = {
        stream: int(lag_threshold(sync.default_schedule).total_seconds())
        for sync in SYNCS
        for stream in sync.streams
    }
    assert bicep_lag_thresholds() == expected


def test_wage_rates_every_four_hours_alert_after_nine_hours_and_daily_streams_after_49() -> None:
    thresholds = bicep_lag_thresholds()
    assert (thresholds["wage_rates"], thresholds["master_customer_sites"]) == (9 * 3600, 49 * 3600)


@pytest.mark.parametrize(
    ("schedule", "longest_gap_hours"),
    [
        ("0 0 3 * * *", 24),  # daily
        ("0 0 */4 * * *", 4),
        ("0 20 * * * *", 1),
        ("0 0 3 * * 1-5", 72),  # weekdays: Friday to Monday
        ("0 0 6,18 * * *", 12),
        ("0 0 1,4 * * *", 21),  # uneven: the longest gap counts, not the average
    ],
)
def test_the_lag_threshold_is_twice_the_longest_gap_plus_the_retry_budget(
    schedule: str, longest_gap_hours: int
) -> None:
    assert (
        lag_threshold(schedule).total_seconds() == 2 * longest_gap_hours * 3600 + RETRY_BUDGET.total_seconds()
    )


def test_the_function_app_turns_on_opentelemetry_and_probes_the_anonymous_health_route() -> None:
    api = text(INFRA / "app" / "api.bicep")
    assert re.search(r"^\s*PYTHON_ENABLE_OPENTELEMETRY: 'true'$", api, re.MULTILINE)
    assert re.search(
        r"^\s*APPLICATIONINSIGHTS_CONNECTION_STRING: applicationInsightsConnectionString$", api, re.M
    )
    prefix = json.loads(text(APP_ROOT / "host.json"))["extensions"]["http"]["routePrefix"]
    health = next(operation for operation in HEALTH_OPERATIONS if operation.operation_id == "GetHealth")
    assert health.auth_level == "anonymous"
    path = f"/{prefix}/{health.route}"
    assert f"healthCheckPath: '{path}'" in api
    assert f"healthUrl: '${{api.outputs.uri}}{path}'" in text(INFRA / "main.bicep")
    rbac = text(INFRA / "app" / "rbac.bicep")
    publisher = next(
        block for block in rbac.split("\nresource ") if "roles.monitoringMetricsPublisher)" in block
    )
    assert "scope: applicationInsights\n" in publisher


def test_service_bus_and_the_function_app_send_their_platform_logs_to_the_workspace() -> None:
    diagnostics = text(INFRA / "app" / "diagnostics.bicep")
    settings = diagnostics.split("resource ")[1:]
    scopes = [
        re.search(r"scope: (\w+)", setting).group(1)
        for setting in settings
        if "diagnosticSettings" in setting
    ]
    assert scopes == ["serviceBus", "functionApp"]
    assert re.findall(r"category: '(\w+)'", diagnostics) == [
        "OperationalLogs",
        "AllMetrics",
        "FunctionAppLogs",
        "AllMetrics",
    ]
    assert diagnostics.count("workspaceId: workspaceId") == 2
    assert "workspaceId: monitor.outputs.workspaceId" in text(INFRA / "main.bicep")
