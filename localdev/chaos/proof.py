"""The end proof, by the runner's own reads of every store: never through the hub's code paths.

The target rows come from the sandbox Dataverse's SQLite file, the source rows
from the sandbox SQL Server's, the runs and postings from Azurite's Table
service and the shelf of dead letters from its Blob service (azure SDK
clients), GP's documents from the company SQLite files, the emulator's
dead-letter queues from its message store. Each line holds or fails with the
numbers that say why.
"""

from __future__ import annotations

import re
import sqlite3
from collections import Counter
from collections.abc import Iterable, Mapping
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from azure.data.tables import TableServiceClient
from azure.storage.blob import BlobServiceClient

from localdev.chaos.source import content_digest
from localdev.services import AZURITE_KEY

TARGET_ENTITY = "bs_payrolldetails"  # the store keeps rows by entity set
# The statuses no worker moves on from (README, "A run's life"; shared/workflows/gp_posting/requests.py).
FINAL_RUN = frozenset({"succeeded", "partially_failed", "failed", "dead_lettered"})
FINAL_POSTING = frozenset({"succeeded", "partially_failed", "failed", "refused", "dead_lettered"})
SHOWN_KEYS = 3
# What a secret looks like when no value is known: a SAS signature, a bearer token, a JWT.
SECRET_SHAPES = (
    re.compile(r"sig=[A-Za-z0-9%+/=]{16,}"),
    re.compile(r"Bearer\s+[A-Za-z0-9._~+/-]{20,}"),
    re.compile(r"eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}"),
)


@dataclass(frozen=True)
class ProofLine:
    claim: str
    held: bool
    numbers: str


def open_read_only(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True)


def target_records(dataverse_db: Path) -> dict[tuple[str, str, str], str]:
    """Each ``bs_payrolldetail`` row's key and content digest, from the sandbox Dataverse's own file."""
    found: dict[tuple[str, str, str], str] = {}
    with closing(open_read_only(dataverse_db)) as connection:
        for (data,) in connection.execute("SELECT data FROM rows WHERE entity = ?", (TARGET_ENTITY,)):
            row = orjson.loads(data)
            key = (str(row.get("bs_sitenumber")), str(row.get("bs_jobcode")), str(row.get("bs_date"))[:10])
            hours, cost = row.get("bs_actualhours"), row.get("bs_actualcost")
            found[key] = "" if hours is None or cost is None else content_digest(*key, hours, cost)
    return found


def target_equals_source(
    expected: Mapping[tuple[str, str, str], str], found: Mapping[tuple[str, str, str], str]
) -> ProofLine:
    missing = [key for key in expected if key not in found]
    extra = [key for key in found if key not in expected]
    differing = [key for key, digest in expected.items() if key in found and found[key] != digest]
    numbers = (
        f"source {len(expected):,}, target {len(found):,}; missing {len(missing)}, extra {len(extra)}, "
        f"content differs {len(differing)}"
    )
    for label, keys in (("missing", missing), ("extra", extra), ("differs", differing)):
        if keys:
            numbers += f"; {label} e.g. " + ", ".join("/".join(key) for key in sorted(keys)[:SHOWN_KEYS])
    return ProofLine(
        "target rows == source rows, key by key and digest by digest",
        not (missing or extra or differing),
        numbers,
    )


def documents(tables: TableServiceClient, table: str) -> list[dict[str, Any]]:
    """The main documents of a hub table (RowKey ``id|…``), as the hub stored them."""
    client = tables.get_table_client(table)
    rows = client.query_entities("RowKey ge 'id|' and RowKey lt 'id}'", select=["Document"])
    return [orjson.loads(row["Document"]) for row in rows]


def all_final(
    kind: str, records: Iterable[Mapping[str, Any]], final: frozenset[str], expected: int
) -> ProofLine:
    statuses = Counter(str(record.get("status")) for record in records)
    unfinished = sum(count for status, count in statuses.items() if status not in final)
    shown = ", ".join(f"{status} {count}" for status, count in sorted(statuses.items())) or "none"
    held = unfinished == 0 and sum(statuses.values()) >= expected and set(statuses) <= {"succeeded"}
    return ProofLine(
        f"every {kind} final and succeeded", held, f"{sum(statuses.values())} of {expected} expected: {shown}"
    )


# Where each SmartConnect map leaves its documents in a company, and the column naming one.
GP_DOCUMENTS = {
    "RMIMPV2": "SELECT DOCNUMBR FROM RM20101 UNION ALL SELECT DOCNUMBR FROM RM30101",
    "PMIMPV2": "SELECT DOCNUMBR FROM PM10000 UNION ALL SELECT DOCNUMBR FROM PM20000",
    "GLIMP": "SELECT REFRENCE FROM GL10000",
}


def gp_documents_once(gp_folder: Path, postings: Iterable[Mapping[str, Any]], statements: int) -> ProofLine:
    """Each document a posting reports is in its GP company exactly once, and no document is in GP twice."""
    counts: Counter[tuple[str, str, str]] = Counter()
    for company_file in sorted(gp_folder.glob("*.sqlite")):
        with closing(open_read_only(company_file)) as connection:
            for map_id, query in GP_DOCUMENTS.items():
                counts.update(
                    (company_file.stem, map_id, str(number)) for (number,) in connection.execute(query)
                )
    twice = sorted(key for key, count in counts.items() if count > 1)
    reported, absent, posted_statements = 0, [], 0
    for posting in postings:
        outcomes = posting.get("documents") or []
        posted_statements += bool(outcomes) and all(
            doc.get("status") in ("posted", "duplicate") for doc in outcomes
        )
        for document in outcomes:
            reported += 1
            number = document.get("document_number", document.get("documentNumber"))
            key = (str(document.get("company")), str(document.get("map")), str(number))
            if counts[key] == 0:
                absent.append("/".join(key))
    held = not twice and not absent and posted_statements == statements
    numbers = (
        f"{sum(counts.values())} documents in GP, {reported} reported by {posted_statements} of {statements} "
        f"statements; in GP twice {len(twice)}, reported but absent {len(absent)}"
    )
    if twice:
        numbers += "; twice e.g. " + ", ".join("/".join(key) for key in twice[:SHOWN_KEYS])
    if absent:
        numbers += "; absent e.g. " + ", ".join(absent[:SHOWN_KEYS])
    return ProofLine("each GP document exists exactly once", held, numbers)


def no_dead_letters(emulator_db: Path, blob: BlobServiceClient, state_container: str) -> ProofLine:
    """Nothing on the emulator's dead-letter queues, nothing on the hub's own shelf."""
    with closing(open_read_only(emulator_db)) as connection:
        queues = Counter(
            entity
            for (entity,) in connection.execute(
                "SELECT entity FROM messages WHERE entity LIKE '%/$deadletterqueue'"
            )
        )
    shelf = Counter(
        item.name.split("/")[1]
        for item in blob.get_container_client(state_container).list_blobs(name_starts_with="dead-letters/")
    )
    numbers = f"dead-letter queues {sum(queues.values())}, hub shelf {sum(shelf.values())}"
    for label, found in (("queues", queues), ("shelf", shelf)):
        if found:
            numbers += f"; {label}: " + ", ".join(f"{name} {count}" for name, count in sorted(found.items()))
    return ProofLine("no message dead-lettered", not queues and not shelf, numbers)


def no_secret_written(files: Iterable[Path], secrets: Iterable[str]) -> ProofLine:
    """No secret value (nor anything shaped like a SAS signature or a token) in any log or telemetry file.

    Hits are named by the secret's position in the list, never by its value.
    """
    values = sorted({value for value in (*secrets, AZURITE_KEY) if len(value) >= 8})
    scanned, found = 0, []
    for path in files:
        scanned += 1
        text = path.read_text(encoding="utf-8", errors="replace")
        hits = [f"secret #{values.index(value) + 1}" for value in values if value in text]
        hits += [shape.pattern[:12] for shape in SECRET_SHAPES if shape.search(text)]
        found += [f"{path.name}: {hit}" for hit in hits]
    numbers = (
        f"{scanned} files, {len(values)} secret values and {len(SECRET_SHAPES)} shapes; found {len(found)}"
    )
    if found:
        numbers += " (" + ", ".join(found[:SHOWN_KEYS]) + ")"
    return ProofLine("no secret in any log or telemetry", not found, numbers)
