"""Telemetry set up once, on first use: Azure Monitor in Azure, files or OTLP locally, else nothing.

Microsoft's guidance for Python Functions: ``host.json`` has
``"telemetryMode": "OpenTelemetry"``, the app setting
``PYTHON_ENABLE_OPENTELEMETRY=true`` lets the worker make each invocation's
trace context (the host's request) current, and the app configures the Azure
Monitor distro itself (``configure_azure_monitor``), here with the managed
identity because the Application Insights resource accepts no instrumentation
key. The distro's instrumentation of the Azure SDKs stays on (Blob, Table and
Service Bus calls become dependencies, and the SDK stamps ``Diagnostic-Id`` on
each message); its HTTP-library instrumentations are off, because the hub
writes its own span per call to a system (``shared.http.client``), with the
path but never the query, which can carry record values.

The first invocation starts it, with the hub (``functions/app_hub.py``), and
the local Functions host as it starts; ``import function_app`` imports none of
it, configured or not (``make bench-import``). With no exporter configured
nothing here is ever imported.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:
    from opentelemetry.sdk._logs import LogRecordProcessor
    from opentelemetry.sdk.metrics.export import MetricExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import SpanProcessor

    from shared.settings import Settings

SERVICE_NAME = "towne-park-hub"
SPANS_FILE = "spans.jsonl"
METRICS_FILE = "metrics.jsonl"
LOGS_FILE = "logs.jsonl"
# The distro's instrumentations the hub turns off: its own spans cover these calls (see above).
_NOT_INSTRUMENTED = ("requests", "urllib", "urllib3", "httpx", "django", "fastapi", "flask", "psycopg2")
_started: list[str] = []


def start_telemetry(settings: Settings) -> str | None:
    """Configure the exporter the settings name, once per process; which one ("azure_monitor", "files",
    "otlp"), or None when telemetry is off."""
    if _started:
        return _started[0]
    if settings.applicationinsights_connection_string is not None:
        chosen = _to_azure_monitor(settings)
    elif settings.local_telemetry_folder is not None:
        chosen = _to_files(settings.local_telemetry_folder)
    elif settings.otel_exporter_otlp_endpoint is not None:
        chosen = _to_otlp()
    else:
        return None
    from shared.telemetry.dimensions import carry_on_log_records

    carry_on_log_records()
    _started.append(chosen)
    return chosen


def _to_azure_monitor(settings: Settings) -> str:
    from azure.identity import ManagedIdentityCredential
    from azure.monitor.opentelemetry import configure_azure_monitor

    connection_string = settings.applicationinsights_connection_string
    configure_azure_monitor(
        connection_string=connection_string.get_secret_value() if connection_string else None,
        credential=ManagedIdentityCredential(client_id=settings.managed_identity_client_id),
        resource=_resource(),
        logger_name="",
        instrumentation_options={name: {"enabled": False} for name in _NOT_INSTRUMENTED},
    )
    return "azure_monitor"


def _to_files(folder: Path) -> str:
    """The SDK's own console exporters, one JSON object a line, into ``folder``."""
    from opentelemetry.sdk._logs.export import BatchLogRecordProcessor, ConsoleLogRecordExporter
    from opentelemetry.sdk.metrics.export import ConsoleMetricExporter
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter

    folder.mkdir(parents=True, exist_ok=True)
    spans, metrics, logs = (_appending(folder / name) for name in (SPANS_FILE, METRICS_FILE, LOGS_FILE))
    _install(
        BatchSpanProcessor(
            ConsoleSpanExporter(out=spans, formatter=lambda span: span.to_json(indent=None) + "\n"),
            schedule_delay_millis=500,
        ),
        ConsoleMetricExporter(out=metrics, formatter=lambda data: data.to_json(indent=None) + "\n"),
        BatchLogRecordProcessor(
            ConsoleLogRecordExporter(out=logs, formatter=lambda log: log.to_json(indent=None) + "\n"),
            schedule_delay_millis=500,
        ),
    )
    return "files"


def _to_otlp() -> str:
    """OTLP over HTTP; the exporters read the endpoint and headers from the OTEL_* settings themselves."""
    from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
    from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk._logs.export import BatchLogRecordProcessor
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    _install(
        BatchSpanProcessor(OTLPSpanExporter()),
        OTLPMetricExporter(),
        BatchLogRecordProcessor(OTLPLogExporter()),
    )
    return "otlp"


def _install(spans: SpanProcessor, metrics: MetricExporter, logs: LogRecordProcessor) -> None:
    """The SDK's providers with these exporters, made global; the metric interval is OTEL_METRIC_EXPORT_INTERVAL."""
    from opentelemetry import _logs, trace
    from opentelemetry import metrics as metrics_api
    from opentelemetry.sdk._logs import LoggerProvider, LoggingHandler
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
    from opentelemetry.sdk.trace import TracerProvider

    resource = _resource()
    tracer_provider = TracerProvider(resource=resource)
    tracer_provider.add_span_processor(spans)
    trace.set_tracer_provider(tracer_provider)
    metrics_api.set_meter_provider(
        MeterProvider(resource=resource, metric_readers=[PeriodicExportingMetricReader(metrics)])
    )
    logger_provider = LoggerProvider(resource=resource)
    logger_provider.add_log_record_processor(logs)
    _logs.set_logger_provider(logger_provider)
    logging.getLogger().addHandler(LoggingHandler(level=logging.INFO, logger_provider=logger_provider))
    _trace_azure_sdks()


def _trace_azure_sdks() -> None:
    """Blob, Table and Service Bus calls as spans, as the distro's ``azure_sdk`` instrumentation makes them."""
    from azure.core.settings import settings
    from azure.core.tracing.ext.opentelemetry_span import OpenTelemetrySpan

    settings.tracing_implementation = OpenTelemetrySpan


def _resource() -> Resource:
    from opentelemetry.sdk.resources import Resource

    return Resource.create({"service.name": SERVICE_NAME})


def _appending(path: Path) -> IO[str]:
    return path.open("a", encoding="utf-8", buffering=1)
