"""``infra/`` is consistent with the code, read as text because no Bicep compiler runs here.

``az bicep build infra/main.bicep`` is the real check where Azure's tools exist
(README, infra/README.md). These tests hold what a compiler cannot know: every
app setting the hub reads is set (or its default is the production value, for a
reason stated here), every Service Bus entity the code sends to or receives
from grants the identity exactly that, every parameter is used and every module
gets the parameters it requires, and the Service Bus lock outlives the longest
invocation.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path

import pytest

from shared.settings import APP_ROOT, Settings

INFRA = APP_ROOT / "infra"
MAIN = INFRA / "main.bicep"
API = INFRA / "app" / "api.bicep"
RBAC = INFRA / "app" / "rbac.bicep"
BICEP_FILES = sorted(INFRA.rglob("*.bicep"))

# Settings whose default is what production wants, or that only a local run sets; each with why.
LEFT_TO_THEIR_DEFAULT = {
    "StagingStorage": "a connection string (Azurite); Azure uses the identity-based StagingStorage__* settings",
    "ServiceBusConnection": "a connection string (the emulator); Azure uses ServiceBusConnection__*",
    "LOCAL_CA_BUNDLE": "the sandboxes' local CA; Azure's endpoints have public certificates",
    "LOCAL_TELEMETRY_FOLDER": "local JSON-lines telemetry; Azure sends to Application Insights",
    "OTEL_EXPORTER_OTLP_ENDPOINT": "an OTLP collector, for a local run only",
    "ENTRA_AUTHORITY_HOST": "login.microsoftonline.com is the public cloud's authority",
    "API_ENTRA_AUTHORITY_HOST": "the same public-cloud authority for the API's tokens",
    "KEY_VAULT_CACHE_SECONDS": "5 minutes keeps a rotated secret's lag short at few Key Vault reads",
    "API_RATE_LIMIT_PER_MINUTE": "300 calls a minute per caller is above what Towne Park's flows send",
    "API_MAX_BODY_BYTES": "1 MiB is far above the largest body the API takes",
    "SYNC_BATCH_ROWS": "each stream's own batch size is its production value",
    "GRAPH_URL": "https://graph.microsoft.com is the public cloud's Graph",
    "RSS_DEPOSIT_TOLERANCE": "the default tolerance is the Logic App's; change it in the portal if finance asks",
    "RSS_RENEW_WITHIN_HOURS": "renewing 72 hours before expiry leaves three daily timer runs to succeed",
    "SALESFORCE_API_VERSION": "the REST version the connector was written against; a change is a code change",
    "SALESFORCE_QUERY_BATCH_SIZE": "2,000 records a page is Salesforce's largest, the fewest calls per run",
}
_PARAM = re.compile(r"^param\s+(\w+)\s+[\w.]+(\s*=)?", re.MULTILINE)
_MODULE = re.compile(r"^module\s+(\w+)\s+'([^']+)'\s*=", re.MULTILINE)
_KEY = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*:", re.MULTILINE)
_QUEUE_TRIGGER = re.compile(r'queue_name="%(\w+)%"')


def _block(text: str, start: int) -> str:
    """The text from the ``{`` at or after ``start`` to its matching ``}``."""
    opening = text.index("{", start)
    depth = 0
    for index in range(opening, len(text)):
        depth += {"{": 1, "}": -1}.get(text[index], 0)
        if depth == 0:
            return text[opening : index + 1]
    raise AssertionError(f"unbalanced braces after {text[start : start + 40]!r}")


def _top_level_keys(block: str) -> set[str]:
    """The keys of a Bicep object literal, not those of objects nested in it."""
    keys, depth = set(), 0
    for line in block[1:-1].splitlines():
        if depth == 0 and (match := _KEY.match(line)):
            keys.add(match.group(1))
        depth += line.count("{") + line.count("[") - line.count("}") - line.count("]")
    return keys


def _params(path: Path) -> dict[str, bool]:
    """Each parameter a file declares, and whether it has a default."""
    return {name: bool(default) for name, default in _PARAM.findall(path.read_text(encoding="utf-8"))}


def app_settings() -> set[str]:
    """Every app setting name the Function App gets: the platform and connection settings, the hub's."""
    api, main = API.read_text(encoding="utf-8"), MAIN.read_text(encoding="utf-8")
    names = set()
    for variable in ("platformSettings", "connectionSettings"):
        names |= _top_level_keys(_block(api, api.index(f"var {variable} =")))
    start = main.index("hubSettings: union(")
    end = main.index("\n  }\n}", start)
    for opening in (m.start() for m in re.finditer(r"\{", main[start:end])):
        if main[start + opening - 1 : start + opening] in "(, ":
            names |= _top_level_keys(_block(main, start + opening))
    return names


def _queues() -> dict[str, set[str]]:
    """main.bicep's work queues and the roles the hub's identity gets on each."""
    main = MAIN.read_text(encoding="utf-8")
    declared = main[main.index("var queues = [") : main.index("\n]", main.index("var queues = ["))]
    entries = re.findall(r"name:\s*'([^']+)'.*?hubRoles:\s*\[([^\]]*)\]", declared, re.DOTALL)
    return {name: set(re.findall(r"'(\w+)'", roles)) for name, roles in entries}


def _setting_values() -> dict[str, str]:
    main = MAIN.read_text(encoding="utf-8")
    queues = re.findall(r"(\w+_QUEUE):\s*queues\[(\d)\]\.name", main)
    names = list(_queues())
    return {setting: names[int(index)] for setting, index in queues}


def test_every_setting_the_hub_reads_is_set_in_azure_or_left_to_a_default_for_a_reason() -> None:
    read = {f.alias for f in Settings.model_fields.values() if f.alias and not f.alias.startswith("__")}
    unset = read - app_settings() - set(LEFT_TO_THEIR_DEFAULT)
    assert unset == set(), "settings shared/settings.py reads that infra/ never sets"
    stale = set(LEFT_TO_THEIR_DEFAULT) - read
    assert stale == set(), "reasons for settings the hub no longer reads"
    assert set(LEFT_TO_THEIR_DEFAULT) & app_settings() == set(), "set in infra/ yet said to be left alone"


def test_production_is_not_key_only() -> None:
    assert {"API_ENTRA_CLIENT_ID", "API_ENTRA_TENANT_ID"} <= app_settings()
    assert _params(MAIN)["apiEntraClientId"] is False, (
        "the API's app registration must be a required parameter"
    )


def test_each_queue_a_trigger_reads_is_declared_with_receive_and_each_queue_setting_with_send() -> None:
    queues, named = _queues(), _setting_values()
    triggered = set()
    for path in (APP_ROOT / "functions").glob("*.py"):
        triggered |= set(_QUEUE_TRIGGER.findall(path.read_text(encoding="utf-8")))
    assert triggered, "no Service Bus trigger found: the pattern no longer matches functions/"
    for setting in triggered:
        assert setting in named, f"{setting} (a trigger's queue) is not set from main.bicep's queues"
        assert "receive" in queues[named[setting]], f"the hub may not receive from {named[setting]}"
    queue_settings = {
        f.alias for f in Settings.model_fields.values() if f.alias and f.alias.endswith("_QUEUE")
    }
    assert queue_settings == set(named), "every *_QUEUE setting is one of main.bicep's queues"
    for setting, queue in named.items():
        assert "send" in queues[queue], f"the hub sends to {queue} (retries re-send there) but may not"
        default = Settings.model_fields[
            next(n for n, f in Settings.model_fields.items() if f.alias == setting)
        ]
        assert default.default == queue, f"{setting}'s default differs from the queue infra/ creates"


def test_service_bus_roles_are_granted_per_queue_and_topic_not_on_the_namespace() -> None:
    rbac = RBAC.read_text(encoding="utf-8")
    scopes = re.findall(r"roles\.serviceBusData\w+\)\s*\n\s*scope:\s*(\S+)", rbac)
    assert scopes and all(scope in {"workQueues[index]", "runEvents"} for scope in scopes), scopes
    assert "guid(runEvents.id, identityPrincipalId, roles.serviceBusDataSender)" in rbac
    assert "contains(queue.hubRoles, 'send')" in rbac and "contains(queue.hubRoles, 'receive')" in rbac
    assert "RUN_EVENTS_TOPIC: runEventsTopic" in MAIN.read_text(encoding="utf-8")


def test_every_role_rbac_declares_is_assigned() -> None:
    rbac = RBAC.read_text(encoding="utf-8")
    declared = _top_level_keys(_block(rbac, rbac.index("var roles =")))
    unused = {role for role in declared if f"roles.{role})" not in rbac}
    assert unused == set()
    needed = {"storageBlobDataOwner", "storageTableDataContributor", "keyVaultSecretsUser"}
    assert (
        needed | {"serviceBusDataSender", "serviceBusDataReceiver", "monitoringMetricsPublisher"} <= declared
    )


@pytest.mark.parametrize("path", BICEP_FILES, ids=lambda path: str(path.relative_to(INFRA)))
def test_every_parameter_is_used(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    unused = [name for name in _params(path) if len(re.findall(rf"\b{name}\b", text)) < 2]
    assert unused == []


def test_each_module_gets_exactly_parameters_its_file_declares_and_all_it_requires() -> None:
    for path in [MAIN, *BICEP_FILES]:
        text = path.read_text(encoding="utf-8")
        for match in _MODULE.finditer(text):
            name, target = match.groups()
            body = _block(text, match.end())
            passed = _top_level_keys(_block(body, body.index("params:")))
            declared = _params((path.parent / target).resolve())
            assert passed - set(declared) == set(), f"module {name} passes parameters {target} lacks"
            required = {param for param, has_default in declared.items() if not has_default}
            assert required - passed == set(), f"module {name} leaves required parameters of {target} unset"


def test_main_parameters_json_names_only_main_bicep_parameters_and_every_required_one() -> None:
    given = set(json.loads((INFRA / "main.parameters.json").read_text(encoding="utf-8"))["parameters"])
    declared = _params(MAIN)
    assert given - set(declared) == set()
    assert {name for name, has_default in declared.items() if not has_default} - given == set()


def test_the_containers_the_hub_writes_exist_and_the_audit_trail_is_immutable_and_batches_expire() -> None:
    main, storage = (
        MAIN.read_text(encoding="utf-8"),
        (INFRA / "core" / "storage.bicep").read_text(encoding="utf-8"),
    )
    for alias, variable in (
        ("STAGING_CONTAINER", "stagingContainer"),
        ("STATE_CONTAINER", "stateContainer"),
        ("AUDIT_CONTAINER", "auditContainer"),
    ):
        default = next(f.default for f in Settings.model_fields.values() if f.alias == alias)
        assert f"var {variable} = '{default}'" in main and f"{alias}: {variable}" in main
    assert (
        "immutabilityPolicies" in storage
        and "immutabilityPeriodSinceCreationInDays: auditRetentionDays" in storage
    )
    prefixes = re.findall(r"prefix: '\$\{stagingContainer\}/(\w+)/'", main)
    assert sorted(prefixes) == ["batches", "quarantine"]


def _timespan(text: str) -> timedelta:
    hours, minutes, seconds = (int(part) for part in text.split(":"))
    return timedelta(hours=hours, minutes=minutes, seconds=seconds)


def test_the_message_lock_is_renewed_for_at_least_the_longest_invocation() -> None:
    host = json.loads((APP_ROOT / "host.json").read_text(encoding="utf-8"))
    renewal = _timespan(host["extensions"]["serviceBus"]["maxAutoLockRenewalDuration"])
    assert renewal >= _timespan(host["functionTimeout"])


# Threads kept for API calls beyond every message the queue triggers may hold at once.
API_THREADS = 8
WORKER_MAX_THREADS = 32  # the Python worker's ceiling for PYTHON_THREADPOOL_THREAD_COUNT


def test_the_worker_has_a_thread_for_every_message_it_may_hold_and_the_api_besides() -> None:
    """Queue and HTTP invocations share the worker's thread pool; busy queues must not stall the API.

    ``make fuzz`` found a sync start waiting 32 s for a thread while runs it had started loaded:
    the default pool (cores + 4) is smaller than the queue triggers' ``maxConcurrentCalls``.
    """
    host = json.loads((APP_ROOT / "host.json").read_text(encoding="utf-8"))
    per_trigger = host["extensions"]["serviceBus"]["maxConcurrentCalls"]
    triggers = sum(
        len(_QUEUE_TRIGGER.findall(path.read_text(encoding="utf-8")))
        for path in (APP_ROOT / "functions").glob("*.py")
    )
    threads = re.search(r"PYTHON_THREADPOOL_THREAD_COUNT:\s*'(\d+)'", API.read_text(encoding="utf-8"))
    assert threads is not None, "api.bicep does not size the worker's thread pool"
    assert triggers * per_trigger + API_THREADS <= int(threads.group(1)) <= WORKER_MAX_THREADS
    example = json.loads((APP_ROOT / "local.settings.json.example").read_text(encoding="utf-8"))
    assert example["Values"]["PYTHON_THREADPOOL_THREAD_COUNT"] == threads.group(1)
