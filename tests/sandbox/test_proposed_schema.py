"""Hub-proposed tables, columns and keys merge over Towne Park's tables, each with its reason."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from localdev.sandbox.dataverse.schema import DEFAULT_TABLES, SchemaError, load_proposals, load_schema


def _proposing(folder: Path, document: dict[str, object]) -> Path:
    folder.mkdir()
    (folder / "area.json").write_text(json.dumps(document), encoding="utf-8")
    return folder


def test_proposed_columns_and_keys_extend_a_towne_park_table(tmp_path: Path) -> None:
    folder = _proposing(
        tmp_path / "proposed",
        {
            "columns": {"bs_jobcode": {"bs_hubnote": "a reason"}},
            "alternate_keys": {"bs_jobcode": [{"name": "k", "columns": ["bs_hubnote"], "why": "upserts"}]},
        },
    )
    table = load_schema(DEFAULT_TABLES, folder).table("bs_jobcodes")
    assert table is not None
    assert table.has_column("bs_hubnote") and table.has_column("bs_jobcode")
    assert table.key_named_by(frozenset({"bs_hubnote"})) is not None
    assert [(p.name, p.kind) for p in load_proposals(folder)] == [
        ("bs_hubnote", "column"),
        ("k", "alternate key"),
    ]


def test_a_proposal_without_its_reason_is_refused(tmp_path: Path) -> None:
    folder = _proposing(tmp_path / "proposed", {"columns": {"bs_jobcode": {"bs_hubnote": " "}}})
    with pytest.raises(SchemaError, match="bs_hubnote must say why"):
        load_proposals(folder)


def test_a_column_for_a_table_nobody_declares_is_refused(tmp_path: Path) -> None:
    folder = _proposing(tmp_path / "proposed", {"columns": {"bs_nosuchtable": {"bs_x": "why"}}})
    with pytest.raises(SchemaError, match="bs_nosuchtable, which no file declares"):
        load_schema(DEFAULT_TABLES, folder)


def test_the_shipped_proposals_load_and_each_says_why() -> None:
    proposals = load_proposals()
    assert proposals and all(p.why.strip() for p in proposals)
    schema = load_schema()
    assert all(any(t.logical_name == p.table for t in schema.tables.values()) for p in proposals)
