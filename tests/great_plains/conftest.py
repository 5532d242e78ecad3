"""The in-process GP posting hub, for every test in this folder."""

from tests.great_plains.gp_world import gp_hub, gp_serialised

__all__ = ["gp_hub", "gp_serialised"]
