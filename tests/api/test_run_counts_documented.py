"""The run's counts say what they mean in the served document, and the health operations say who may call."""

from __future__ import annotations

from shared.api.openapi import openapi_document
from tests.api.api_world import SiteTotals


def test_every_extract_and_load_count_is_described_and_no_two_alike() -> None:
    run = openapi_document([SiteTotals()])["definitions"]["Run"]["properties"]
    for model in ("extract", "load"):
        properties = run[model]["properties"]
        descriptions = [schema.get("description") for schema in properties.values()]
        assert all(descriptions), (
            model,
            [name for name, schema in properties.items() if not schema.get("description")],
        )
        assert len(set(descriptions)) == len(descriptions), model
    load = run["load"]["properties"]
    assert "Dataverse does not say which" in load["upserted"]["description"]
    assert "extract.unchanged" in load["unchanged"]["description"]


def test_liveness_is_anonymous_and_readiness_needs_a_key_in_the_document() -> None:
    paths = openapi_document([SiteTotals()])["paths"]
    assert paths["/health"]["get"]["security"] == []
    assert "503" not in paths["/health"]["get"]["responses"]  # it calls no dependency that could be down
    assert paths["/health/ready"]["get"].get("security") != []
    assert set(paths["/health/ready"]["get"]["responses"]) >= {"200", "503"}
