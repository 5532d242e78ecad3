"""Mail sent as a mailbox through Graph: ``POST /users/{id | userPrincipalName}/sendMail``.

https://learn.microsoft.com/graph/api/user-sendmail: the app-only caller needs
``Mail.Send`` (an Exchange application access policy can restrict it to the
one mailbox); Graph answers 202 Accepted with no body. The POST is not
repeated on a lost answer: a second try could send the mail twice.
"""

from __future__ import annotations

from collections.abc import Sequence

from shared.connectors.graph.client import GraphClient


class Mailbox:
    """One mailbox the hub sends from (its address or user id)."""

    def __init__(self, graph: GraphClient, address: str) -> None:
        self._graph = graph
        self.address = address

    def send(self, to: Sequence[str], subject: str, html: str) -> None:
        message = {
            "subject": subject,
            "body": {"contentType": "HTML", "content": html},
            "toRecipients": [{"emailAddress": {"address": address}} for address in to],
        }
        self._graph.send(
            "POST",
            f"users/{self.address}/sendMail",
            body={"message": message, "saveToSentItems": True},
            idempotent=False,
        )
