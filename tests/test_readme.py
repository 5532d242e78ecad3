"""The READMEs say what the code does: what ``make run`` starts, every setting, the secrets, and links
that a reader of the repository can follow without leaving it."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from localdev.run import functions_host, local_world
from localdev.sandbox.dataverse.schema import load_proposals
from shared.connectors.syncs import SYNCS
from shared.settings import LOCAL_SECRET_PREFIX, Settings

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
_LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
_NAME = re.compile(r"`([^`]+)`")
_SECRET_NAME = re.compile(r"(?<![\w-])[a-z]+(?:-[a-z]+)*-(?:secret|password)(?![\w-])")  # a Key Vault name


def _section(text: str, heading: str) -> str:
    """The text under ``heading`` up to the next heading of the same or a higher level."""
    level = heading.split(" ", 1)[0]
    start = text.index(f"\n{heading}\n")
    ends = [m.start() for m in re.finditer(rf"\n#{{1,{len(level)}}} ", text) if m.start() > start]
    return text[start : ends[0] if ends else len(text)]


def _table_rows(text: str) -> list[list[str]]:
    rows = [line for line in text.splitlines() if line.startswith("|")]
    return [[cell.strip() for cell in row.strip("|").split("|")] for row in rows[2:]]


def _settings_in_readme() -> set[str]:
    """The first column's names; ``__clientId`` after ``X__y`` in one cell is ``X__clientId``."""
    names = set()
    for row in _table_rows(_section(README.read_text(), "## Settings").split("\n### ")[0]):
        prefix = ""
        for written in _NAME.findall(row[0]):
            if not written.startswith("__"):
                prefix = written.split("__")[0]
            names.add(prefix + written if written.startswith("__") else written)
    return names


def _settings_the_code_reads() -> set[str]:
    declared = {field.alias for field in Settings.model_fields.values() if field.alias}
    gathered = {name for name in declared if name.startswith("__")}  # the secrets and schedules fields
    return (
        (declared - gathered) | {f"{LOCAL_SECRET_PREFIX}<NAME>"} | {sync.schedule_setting for sync in SYNCS}
    )


def test_the_settings_table_lists_every_setting_the_hub_reads() -> None:
    missing = _settings_the_code_reads() - _settings_in_readme()
    assert missing == set(), "settings shared/settings.py reads that README's Settings table does not list"
    assert {"GP_COMPANIES", "GP_PAYMENT_STATUS_SCHEDULE", "StagingStorage__clientId"} <= _settings_in_readme()


def test_the_make_run_table_lists_everything_it_starts_on_its_port() -> None:
    text = README.read_text()
    table = text[text.index("`make run` starts, on loopback:") : text.index("`.ci/run`")]
    where = " ".join(row[1] for row in _table_rows(table))
    started = [*local_world(), functions_host(core_tools=False)]
    unlisted = [f"{spec.name} on {spec.port}" for spec in started if f"127.0.0.1:{spec.port}" not in where]
    assert unlisted == []
    assert len(_table_rows(table)) == len(started) - 1  # Azurite's Blob and Table services share a row


def test_markdown_links_stay_inside_the_repository_and_resolve() -> None:
    documents = [README, ROOT / "infra" / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    broken = []
    for document in documents:
        for target in _LINK.findall(document.read_text()):
            path = target.split("#", 1)[0]
            outside = "://" in target or target.startswith(("mailto:", "/"))
            if outside or not (document.parent / path).resolve().is_relative_to(ROOT):
                broken.append(f"{document.relative_to(ROOT)}: {target} leaves the repository")
            elif path and not (document.parent / path).exists():
                broken.append(f"{document.relative_to(ROOT)}: {target} does not exist")
    assert broken == []
    assert "docs/table-storage-limits.md" in _LINK.findall(README.read_text())


def _secrets_the_code_reads() -> set[str]:
    """Key Vault names passed to the secret store's ``get`` in the composition root, directly or partially."""
    source = ast.parse((ROOT / "shared" / "composition.py").read_text())
    constants = {
        node.targets[0].id: node.value.value
        for node in source.body
        if isinstance(node, ast.Assign)
        and isinstance(node.targets[0], ast.Name)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
    }

    def is_secret_get(node: ast.expr) -> bool:
        return isinstance(node, ast.Attribute) and node.attr == "get" and "secrets" in ast.unparse(node.value)

    read = set()
    for node in ast.walk(source):
        if not isinstance(node, ast.Call):
            continue
        arguments = node.args
        if is_secret_get(node.func):
            named = arguments[:1]
        elif arguments and is_secret_get(arguments[0]):  # functools.partial(secrets.get, NAME)
            named = arguments[1:2]
        else:
            continue
        read |= {constants[argument.id] for argument in named if isinstance(argument, ast.Name)}
    return read


def test_the_readmes_name_exactly_the_secrets_the_code_reads() -> None:
    read = _secrets_the_code_reads()
    assert read == {
        "dataverse-client-secret",
        "edw-sql-password",
        "gp-sql-password",
        "rss-webhook-secret",
        "salesforce-client-secret",
        "lead-capture-signing-secret",
    }
    for document in (ROOT / "infra" / "README.md", README):
        assert set(_SECRET_NAME.findall(document.read_text())) == read, document.relative_to(ROOT)


def test_the_readme_lists_every_hub_proposed_dataverse_name_with_its_table() -> None:
    listed = {
        (_NAME.findall(row[0])[0], _NAME.findall(row[1])[0], row[2])
        for row in _table_rows(_section(README.read_text(), "## Hub-proposed Dataverse tables and columns"))
    }
    proposed = {(p.table, p.name, p.kind) for p in load_proposals()}
    assert proposed - listed == set(), (
        "proposed in localdev/sandbox/dataverse/proposed/ but not in the README"
    )
    assert listed - proposed == set(), "listed in the README but proposed by no file"
