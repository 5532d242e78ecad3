"""eOne SmartConnect's ``RunMapDataTable`` SOAP 1.1 call: the envelope out, the run's result back.

The request is what Towne Park's flows send today (DOMAIN.md §3): ``mapID``,
``interID`` and ``xml`` holding a ``<DataSet><Table>…</Table></DataSet>``,
with SOAPAction ``http://tempuri.org/RunMapDataTable``. Every element is built
with ElementTree, so values are escaped, never pasted into strings.

The reply is parsed as XML, never searched for a word. What
``RunMapDataTableResult`` holds is not confirmed by any public source: eOne
documents a ``RunMapResponse`` (``ErrorCount``, ``ErrorMessage``, ``Errors``…)
for its REST service, and today's Logic App reports a bare "success". Both
shapes are read here, in ``read_reply`` alone, so a different real shape is a
change to one function.

A SOAP fault comes back with HTTP 500, which the hub's HTTP layer reports as a
transient failure without its body; the poster therefore treats it as an
outcome it must check against GP before trying again.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import httpx
from defusedxml import ElementTree as SafeET

from shared.errors import CircuitOpenError, ErrorClass, HubError
from shared.http.client import ResilientClient
from shared.telemetry import names
from shared.telemetry.spans import SpanKind, span

SOAP_NS = "http://schemas.xmlsoap.org/soap/envelope/"
SERVICE_NS = "http://tempuri.org/"
SOAP_ACTION = f"{SERVICE_NS}RunMapDataTable"
# Failures where the request cannot have reached SmartConnect, so sending it again is safe.
_NEVER_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


def data_table(rows: Sequence[Mapping[str, str]]) -> str:
    """The ``<DataSet>`` SmartConnect's map reads: one ``<Table>`` per row, one element per column."""
    dataset = ET.Element("DataSet")
    for row in rows:
        table = ET.SubElement(dataset, "Table")
        for column, value in row.items():
            ET.SubElement(table, column).text = value
    return ET.tostring(dataset, encoding="unicode")


def envelope(map_id: str, inter_id: str, rows: Sequence[Mapping[str, str]]) -> str:
    """The SOAP 1.1 request body; the DataSet travels as the escaped text of ``xml``."""
    ET.register_namespace("soap", SOAP_NS)
    root = ET.Element(f"{{{SOAP_NS}}}Envelope")
    body = ET.SubElement(root, f"{{{SOAP_NS}}}Body")
    call = ET.SubElement(body, f"{{{SERVICE_NS}}}RunMapDataTable")
    ET.SubElement(call, f"{{{SERVICE_NS}}}mapID").text = map_id
    ET.SubElement(call, f"{{{SERVICE_NS}}}interID").text = inter_id
    ET.SubElement(call, f"{{{SERVICE_NS}}}xml").text = data_table(rows)
    return ET.tostring(root, encoding="unicode", xml_declaration=False)


@dataclass(frozen=True)
class MapRun:
    """What SmartConnect said about one run: accepted, or rejected with its own words."""

    accepted: bool
    message: str
    request_xml: str
    response_xml: str


class SmartConnectReplyError(HubError):
    """SmartConnect answered with something that is not a ``RunMapDataTable`` reply."""


class PostingOutcomeUnknownError(HubError):
    """The request may have reached GP but no answer came back; GP must be checked before any retry."""


def read_reply(response_xml: str) -> tuple[bool, str]:
    """(accepted, message) from a SOAP reply; raises ``SmartConnectReplyError`` if it is not one."""
    try:
        root = SafeET.fromstring(response_xml)
    except ET.ParseError as error:
        raise SmartConnectReplyError(
            f"SmartConnect's reply is not XML: {error}", error_class=ErrorClass.PERMANENT
        ) from None
    body = root.find(f"{{{SOAP_NS}}}Body")
    if root.tag != f"{{{SOAP_NS}}}Envelope" or body is None:
        raise SmartConnectReplyError(
            "SmartConnect's reply is not a SOAP envelope", error_class=ErrorClass.PERMANENT
        )
    fault = body.find(f"{{{SOAP_NS}}}Fault")
    if fault is not None:
        return False, (fault.findtext("faultstring") or "SOAP fault without a faultstring").strip()
    result = body.find(f"{{{SERVICE_NS}}}RunMapDataTableResponse/{{{SERVICE_NS}}}RunMapDataTableResult")
    if result is None:
        raise SmartConnectReplyError(
            "SmartConnect's reply has no RunMapDataTableResult", error_class=ErrorClass.PERMANENT
        )
    error_count = _child_text(result, "ErrorCount")
    if error_count is not None:
        message = _child_text(result, "ErrorMessage") or _child_text(result, "Errors") or ""
        if not error_count.isdigit():
            raise SmartConnectReplyError(f"ErrorCount is {error_count!r}", error_class=ErrorClass.PERMANENT)
        return int(error_count) == 0, message.strip() or "success"
    text = "".join(result.itertext()).strip()
    return text.lower() in ("success", "true"), text


def _child_text(element: ET.Element, name: str) -> str | None:
    """A child's text whatever namespace the service put it in."""
    for child in element:
        if child.tag.rsplit("}", 1)[-1] == name:
            return child.text or ""
    return None


class SmartConnect:
    """The SmartConnect web service on the GP application server (through the hybrid connection in Azure)."""

    def __init__(self, http: ResilientClient, path: str) -> None:
        self._http = http
        self._path = path

    def run_map_data_table(self, map_id: str, inter_id: str, rows: Sequence[Mapping[str, str]]) -> MapRun:
        """Run the map once. Never retried blindly: ``RunMapDataTable`` creates documents.

        Raises ``HubError`` (transient) when the request never left, and
        ``PostingOutcomeUnknownError`` when it may have been acted on.
        """
        with span(
            names.SPAN_SMARTCONNECT, {names.GP_MAP: map_id, names.GP_COMPANY: inter_id}, SpanKind.CLIENT
        ) as call:
            run = self._run(map_id, inter_id, rows)
            call.set_attribute(names.OUTCOME, "accepted" if run.accepted else "refused")
            return run

    def _run(self, map_id: str, inter_id: str, rows: Sequence[Mapping[str, str]]) -> MapRun:
        request_xml = envelope(map_id, inter_id, rows)
        try:
            response = self._http.send(
                "POST",
                self._path,
                idempotent=False,
                headers={"Content-Type": "text/xml; charset=utf-8", "SOAPAction": f'"{SOAP_ACTION}"'},
                content=request_xml.encode("utf-8"),
            )
        except CircuitOpenError:
            raise
        except HubError as error:
            if isinstance(error.__cause__, _NEVER_SENT) or _relay_had_no_listener(error):
                raise
            raise PostingOutcomeUnknownError(
                f"RunMapDataTable {map_id} may have been applied: {error}",
                error_class=ErrorClass.TRANSIENT,
                context={"system": "smartconnect", "operation": "RunMapDataTable"},
            ) from error
        response_xml = response.text
        if response.status_code >= 400:
            raise HubError(
                f"SmartConnect answered HTTP {response.status_code} to RunMapDataTable {map_id}",
                error_class=ErrorClass.PERMANENT,
                context={
                    "system": "smartconnect",
                    "operation": "RunMapDataTable",
                    "status": response.status_code,
                },
            )
        accepted, message = read_reply(response_xml)
        return MapRun(accepted, message, request_xml, response_xml)


def _relay_had_no_listener(error: HubError) -> bool:
    """502 from the relay: no Hybrid Connection Manager listening, so nothing reached SmartConnect."""
    return error.context.get("status") == 502
