"""The revenue submissions' world: SharePoint sites in the sandbox Graph, the EDW figures they are checked
against, and the hub (in-process, and on the local host) configured to watch their Revenue lists.

Each test gets two sites of its own, numbered outside the sandbox SQL's sites,
with Towne Park deposits (``DEPOSIT_FLAG = 'Y'``, and other rows around them)
and account 4785 seeded for one month, and a submitter in
``WORKDAY_SITE_SALARIES``; the rows are removed after the test. A workbook's
cash deposits are chosen by the test, so whether the deposits balance is
decided here, by arithmetic over the seeded rows, not by the code under test.
"""

from __future__ import annotations

import sqlite3
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from azure.servicebus import ServiceBusClient

from localdev.sandbox.graph.world import site_ids
from localdev.sandbox_sql import SandboxSummary
from shared.composition import Hub, build_hub
from shared.settings import Settings
from tests.fixtures.dataverse_sandbox import DataverseSandbox
from tests.fixtures.servicebus_emulator import ServiceBusEmulator
from tests.pipeline.world import delivery_from_sdk

GRAPH = "https://graph.microsoft.com"
PERIOD = "202510"
SUBMITTER = "Okafor, Adaeze"  # SharePoint's "Last, First"
SUBMITTER_EMAIL = "adaeze.okafor@townepark.com"
MAILBOX = "rss-billing@townepark.com"
CLIENT_STATE = "rss-test-client-state-" + uuid.uuid4().hex
QUEUE = "rss-submissions"
T = TypeVar("T")


@dataclass(frozen=True)
class RssSite:
    number: str  # '8431'
    name: str  # the SharePoint site's name, 'TP8431'
    site_id: str
    list_id: str
    tp_deposits: Decimal  # EXTERNALREVENUE of the month's DEPOSIT_FLAG 'Y' rows, as seeded
    account_4785: Decimal  # ACCOUNT_SUMMARY's balance, as seeded (negative)

    @property
    def list_key(self) -> str:
        return f"{self.site_id}/{self.list_id}"

    def balancing_cash(self) -> Decimal:
        """The cash deposits that make the RSS balance: TP deposits less cash equal to -4785."""
        return self.tp_deposits + self.account_4785


class GraphControls:
    """The sandbox Graph's test controls, and Graph itself as the hub's app registration calls it."""

    def __init__(self, sandbox: DataverseSandbox) -> None:
        self._sandbox = sandbox

    def _control(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        with httpx.Client(verify=self._sandbox.tls(), timeout=30) as client:
            answer = client.request(method, f"{self._sandbox.url}/sandbox/graph/{path}", json=body)
        answer.raise_for_status()
        return answer.json()

    def graph(self) -> httpx.Client:
        token = self._sandbox.access_token(GRAPH)
        return httpx.Client(
            base_url=f"{self._sandbox.url}/v1.0/",
            verify=self._sandbox.tls(),
            timeout=30,
            headers={"Authorization": f"Bearer {token}"},
        )

    def reset(self) -> None:
        self._control("POST", "reset")

    def add_site(self, name: str) -> dict[str, str]:
        answer: dict[str, str] = self._control("POST", "sites", {"name": name})
        return answer

    def upload(self, site: RssSite, *, cash: Decimal | None = None, status: str | None = None) -> str:
        """The submitter uploads the month's workbook (unreadable when ``cash`` is None); its item id."""
        body: dict[str, Any] = {"site": site.number, "period": PERIOD, "by": SUBMITTER, "status": status}
        body |= {"cash": str(cash)} if cash is not None else {"unreadable": True}
        return str(self._control("POST", f"sites/{site.site_id}/items", body)["itemId"])

    def edit(
        self, site: RssSite, item_id: str, fields: dict[str, Any], *, cash: Decimal | None = None
    ) -> dict[str, Any]:
        """The submitter changes the item's fields, and with ``cash`` uploads a new version of the file."""
        body: dict[str, Any] = {"fields": fields, "by": SUBMITTER}
        body |= {"cash": str(cash)} if cash is not None else {}
        answer: dict[str, Any] = self._control("POST", f"sites/{site.site_id}/items/{item_id}/edit", body)
        return answer

    def status(self, site: RssSite, item_id: str) -> str | None:
        with self.graph() as graph:
            answer = graph.get(f"sites/{site.site_id}/lists/{site.list_id}/items/{item_id}?$expand=fields")
        answer.raise_for_status()
        value = answer.json()["fields"].get("Revenue_x0020_Doc_x0020_Status")
        return str(value) if value is not None else None

    def notifications(self, enabled: bool) -> None:
        self._control("POST", "notifications", {"enabled": enabled})

    def notify(self, site: RssSite, times: int) -> None:
        self._control("POST", f"sites/{site.site_id}/notify", {"times": times})

    def expire_tokens(self, site: RssSite) -> None:
        self.expire_site_tokens(site.site_id)

    def expire_site_tokens(self, site_id: str) -> None:
        """Every delta token of the site's list given so far is expired: Graph answers 410 to them."""
        self._control("POST", f"sites/{site_id}/expire-tokens")

    def move_expiry(self, subscription_id: str, when: str) -> None:
        self._control("POST", f"subscriptions/{subscription_id}", {"expirationDateTime": when})

    def mail(self) -> list[dict[str, Any]]:
        return list(self._control("GET", "mail")["value"])

    def deliveries(self) -> list[dict[str, Any]]:
        return list(self._control("GET", "deliveries")["value"])

    def subscriptions(self) -> list[dict[str, Any]]:
        with self.graph() as graph:
            answer = graph.get("subscriptions")
        answer.raise_for_status()
        return list(answer.json()["value"])


def rss_settings(
    base: dict[str, str], sandbox: DataverseSandbox, sites: list[RssSite], notification_url: str
) -> dict[str, str]:
    """The hub's settings for watching ``sites``' lists: Graph, the lists, the webhook and the mailbox."""
    return base | {
        "GRAPH_URL": f"{sandbox.url}/v1.0",
        "RSS_REVENUE_LISTS": ";".join(site.list_key for site in sites),
        "RSS_NOTIFICATION_URL": notification_url,
        "RSS_MAILBOX": MAILBOX,
        "RSS_SUBMISSIONS_QUEUE": QUEUE,
        "SECRET_RSS_WEBHOOK_SECRET": CLIENT_STATE,
    }


def in_process_hub(settings: dict[str, str]) -> Hub:
    """``build_hub`` over the same settings the host has: same tables, queues, sandboxes."""
    values: dict[str, Any] = {k: v for k, v in settings.items() if not k.startswith("SECRET_")}
    values["__local_secrets__"] = {k: v for k, v in settings.items() if k.startswith("SECRET_")}
    hub = build_hub(Settings(**values))
    hub.prepare_storage()
    return hub


def seed_sites(summary: SandboxSummary, count: int, seed: int) -> list[RssSite]:
    """``count`` sites the sandbox SQL does not have, with a month of deposits and account 4785."""
    rng_base = int(uuid.uuid4().int % 7000) + 1000
    taken = set(summary.sites)
    numbers = [f"{n:04d}" for n in range(rng_base, 9000) if f"{n:04d}" not in taken][:count]
    sites: list[RssSite] = []
    with closing(sqlite3.connect(summary.folder / "TP_EDW.sqlite")) as edw, edw:
        for index, number in enumerate(numbers):
            deposits = [
                Decimal(f"{1000 + 37 * day + 11 * index + seed}.{(day * 7) % 100:02d}") for day in range(1, 8)
            ]
            for day, amount in enumerate(deposits, start=1):
                for flag, value in (("Y", amount), ("N", amount / 2), ("V", Decimal("12.50"))):
                    edw.execute(
                        'INSERT INTO "vwREVENUE_DAILY_DETAIL_INVOICE" ("SITE", "DATE", "REVENUE_CATEGORY", '
                        '"DEPOSIT_FLAG", "EXTERNALREVENUE", "NETEXTERNALREVENUE") VALUES (?, ?, ?, ?, ?, ?)',
                        (
                            number,
                            f"{PERIOD[:4]}-{PERIOD[4:]}-{day:02d}",
                            "Valet Daily",
                            flag,
                            float(value),
                            float(value),
                        ),
                    )
            # The month before is seeded too: it must not count.
            edw.execute(
                'INSERT INTO "vwREVENUE_DAILY_DETAIL_INVOICE" ("SITE", "DATE", "REVENUE_CATEGORY", "DEPOSIT_FLAG", '
                '"EXTERNALREVENUE") VALUES (?, ?, ?, ?, ?)',
                (number, f"{PERIOD[:4]}-09-30", "Valet Daily", "Y", 999.99),
            )
            collected = -Decimal(f"{4200 + 100 * index + seed}.15")
            for period, account, balance in (
                (PERIOD, "4785", collected),
                (PERIOD, "4790", Decimal("-77")),
                ("202509", "4785", Decimal("-5")),
            ):
                edw.execute(
                    'INSERT INTO "ACCOUNT_SUMMARY" ("COST_CENTER", "PERIOD", "MAIN_ACCOUNT", "BALANCE", "ENTITY") '
                    "VALUES (?, ?, ?, ?, ?)",
                    (number, period, account, float(balance), "01"),
                )
            edw.execute(
                'INSERT INTO "WORKDAY_SITE_SALARIES" ("COST_CENTER", "FULL_LEGAL_NAME", "EMAIL_PRIMARY_WORK") '
                "VALUES (?, ?, ?)",
                (number, "Adaeze Okafor", SUBMITTER_EMAIL),
            )
            name = f"TP{number}"
            site_id, list_id = site_ids(name)
            sites.append(RssSite(number, name, site_id, list_id, sum(deposits, Decimal("0")), collected))
    return sites


def remove_sites(folder: Path, sites: list[RssSite]) -> None:
    numbers = [site.number for site in sites]
    marks = ",".join("?" for _ in numbers)
    with closing(sqlite3.connect(folder / "TP_EDW.sqlite")) as edw, edw:
        edw.execute(f'DELETE FROM "vwREVENUE_DAILY_DETAIL_INVOICE" WHERE "SITE" IN ({marks})', numbers)
        edw.execute(f'DELETE FROM "ACCOUNT_SUMMARY" WHERE "COST_CENTER" IN ({marks})', numbers)
        edw.execute(f'DELETE FROM "WORKDAY_SITE_SALARIES" WHERE "COST_CENTER" IN ({marks})', numbers)
    with closing(sqlite3.connect(folder / "TP_STAGE.sqlite")) as stage, stage:
        stage.execute(f'DELETE FROM "REVENUE_DATAMART_DAILY_INVOICE" WHERE "SITE" IN ({marks})', numbers)


def staged_rows(folder: Path, site: RssSite) -> list[tuple[Any, ...]]:
    """The site's rows in TP_STAGE, read straight from the sandbox file."""
    with closing(sqlite3.connect(folder / "TP_STAGE.sqlite")) as stage:
        return stage.execute(
            'SELECT "FILE_NAME", "DATE", "REVENUE_CATEGORY", "VALUE" FROM "REVENUE_DATAMART_DAILY_INVOICE" '
            'WHERE "SITE" = ? ORDER BY "DATE", "REVENUE_CATEGORY", "VALUE"',
            (site.number,),
        ).fetchall()


def ready_for_invoice(sandbox: DataverseSandbox, site: RssSite) -> list[dict[str, Any]]:
    with sandbox.client() as api:
        answer = api.get(
            "cr9e8_readyforinvoices",
            params={
                "$select": "cr9e8_site,cr9e8_period,cr9e8_rssfile,cr9e8_invoicestatus,cr9e8_comments,bs_rssfileversion",
                "$filter": f"cr9e8_site eq '{site.number}'",
            },
        )
    answer.raise_for_status()
    return list(answer.json()["value"])


def drain(hub: Hub, emulator: ServiceBusEmulator, seconds: float = 5.0) -> list[Any]:
    """Every message on the RSS queue handed to the in-process hub, until the queue stays empty."""
    results: list[Any] = []
    with (
        ServiceBusClient.from_connection_string(emulator.connection_string) as client,
        client.get_queue_receiver(QUEUE, max_wait_time=1) as receiver,
    ):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            received = receiver.receive_messages(max_message_count=10, max_wait_time=0.5)
            if not received:
                break
            for message in received:
                results.append(hub.revenue_submissions.handle(delivery_from_sdk(message, QUEUE)))
                receiver.complete_message(message)
    return results


def queued(emulator: ServiceBusEmulator) -> int:
    """Messages on the RSS queue now, locked or not."""
    with (
        ServiceBusClient.from_connection_string(emulator.connection_string) as client,
        client.get_queue_receiver(QUEUE) as receiver,
    ):
        return len(receiver.peek_messages(max_message_count=50))


def eventually(check: Callable[[], T | None], seconds: float = 20.0, what: str = "the condition") -> T:
    """``check()``'s first answer that is not None (or falsy), within ``seconds``."""
    deadline = time.monotonic() + seconds
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {seconds} s")
        time.sleep(0.2)


@pytest.fixture
def graph(dataverse_sandbox: DataverseSandbox) -> Iterator[GraphControls]:
    controls = GraphControls(dataverse_sandbox)
    controls.reset()
    yield controls
    controls.reset()
