"""The in-process GP posting hub (``tests/great_plains/gp_world.py``), for the Dataverse event tests."""

from tests.great_plains.gp_world import gp_hub, gp_serialised

__all__ = ["gp_hub", "gp_serialised"]
