"""The fault switches of the sandboxes and the emulator: arming the schedule's shares, reading their counters.

Each switch counts what it struck itself; the table reports those counters,
not what the runner asked for. A switch this checkout's sandbox does not have
yet is reported as missing rather than silently left out.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass, field
from typing import Any

import httpx

from localdev.chaos.schedule import RequestFault, Schedule, Switch
from localdev.chaos.world import ChaosWorld

# The Dataverse sandbox's own names for the schedule's faults (its throttle is a switch of its own).
DATAVERSE_FAULTS = {
    RequestFault.UNAVAILABLE: "unavailable_503",
    RequestFault.DROPPED_CONNECTION: "dropped_connection",
    RequestFault.DROPPED_AFTER_APPLY: "dropped_after_apply",
}


@dataclass
class Switchboard:
    """Where each system's switch is, and which switches answered when armed."""

    world: ChaosWorld
    armed: dict[tuple[str, str], bool] = field(default_factory=dict)
    # The emulator forgets its counters when restarted: what it counted before, kept here.
    duplicates_before_restart: int = 0

    def arm(self, schedule: Schedule) -> None:
        for switch in schedule.switches:
            self.armed[(switch.system, switch.fault)] = self._set(switch, switch.fraction)

    def disarm(self, schedule: Schedule) -> None:
        for switch in schedule.switches:
            if self.armed.get((switch.system, switch.fault)):
                self._set(switch, 0.0)

    def rearm_emulator(self, schedule: Schedule) -> None:
        """After the emulator's restart: its switch again, the counts it had kept."""
        for switch in schedule.switches:
            if switch.system == "servicebus" and self.armed.get((switch.system, switch.fault)):
                self._set(switch, switch.fraction)

    def remember_emulator_counts(self) -> None:
        self.duplicates_before_restart += self._emulator_duplicates() or 0

    def injected(self, switch: Switch) -> int | None:
        """How many requests (deliveries) the switch struck; None when the system has no such switch."""
        if not self.armed.get((switch.system, switch.fault)):
            return None
        if switch.system == "servicebus":
            return self.duplicates_before_restart + (self._emulator_duplicates() or 0)
        if switch.system == "dataverse" and switch.fault == RequestFault.THROTTLED:
            stats = self._dataverse("GET", "/sandbox/stats").json()
            return int(stats["throttled"])
        if switch.system == "dataverse":
            struck = self._dataverse("GET", "/sandbox/faults").json()
            return int(struck.get(DATAVERSE_FAULTS[RequestFault(switch.fault)], {}).get("struck", 0))
        struck = httpx.get(f"{self.world.gp_url}/admin/faults", timeout=10).json()
        return int(struck.get(switch.fault, {}).get("struck", 0))

    def _set(self, switch: Switch, fraction: float) -> bool:
        body: dict[str, Any] = {"fraction": fraction, "seed": switch.seed}
        if switch.system == "dataverse" and switch.fault == RequestFault.THROTTLED:
            answer = self._dataverse("POST", "/sandbox/throttle", {**body, "retry_after": 1})
        elif switch.system == "dataverse":
            fault = DATAVERSE_FAULTS[RequestFault(switch.fault)]
            answer = self._dataverse("POST", "/sandbox/faults", {**body, "fault": fault})
        elif switch.system == "gp":
            answer = httpx.post(
                f"{self.world.gp_url}/admin/faults", json={**body, "fault": switch.fault}, timeout=10
            )
        elif self.world.emulator_admin:
            url = f"{self.world.emulator_admin_url}/admin/faults"
            answer = httpx.post(url, json={**body, "fault": switch.fault}, timeout=10)
        else:
            return False
        return answer.is_success

    def _emulator_duplicates(self) -> int | None:
        if not self.world.emulator_admin:
            return None
        shown = httpx.get(f"{self.world.emulator_admin_url}/admin/faults", timeout=10).json()
        return sum(int(count) for count in shown.get("duplicatesByQueue", {}).values())

    def _dataverse(self, method: str, path: str, body: dict[str, Any] | None = None) -> httpx.Response:
        with httpx.Client(
            verify=ssl.create_default_context(cafile=self.world.ca_bundle), timeout=10
        ) as client:
            return client.request(method, f"{self.world.dataverse_url}{path}", json=body)
