"""What GP already holds, read from its company database: the answer to "did that posting land?".

Asked before a posting is retried after its outcome was lost (a time-out after
sending), so a document SmartConnect accepted is never sent twice. Receivables
are found by document number in open (``RM20101``) and history (``RM30101``)
transactions; payables by vendor and document number in ``PM10000``/``PM20000``;
journals by batch and reference in the unposted ``GL10000``, with the line count
and debit total telling apart the parts of one statistics batch.

Whether SmartConnect's maps post their batches (documents in RM20101) or leave
them unposted (RM10301, PM10000) is set in each map and not known here; the
tables searched are listed in ``_QUERIES`` so that is a one-line change.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Engine, text

from shared.connectors.great_plains.documents import GpDocument, GpMap

_QUERIES = {
    GpMap.RECEIVABLES: text(
        "SELECT COUNT(*) FROM (SELECT DOCNUMBR FROM RM20101 WHERE DOCNUMBR = :number AND RMDTYPAL = 1 "
        "UNION ALL SELECT DOCNUMBR FROM RM30101 WHERE DOCNUMBR = :number AND RMDTYPAL = 1) AS found"
    ),
    GpMap.PAYABLES: text(
        "SELECT COUNT(*) FROM (SELECT DOCNUMBR FROM PM10000 WHERE DOCNUMBR = :number AND VENDORID = :vendor "
        "UNION ALL SELECT DOCNUMBR FROM PM20000 WHERE DOCNUMBR = :number AND VENDORID = :vendor) AS found"
    ),
    GpMap.JOURNAL: text(
        "SELECT COUNT(*) FROM GL10000 h WHERE h.BACHNUMB = :batch AND h.REFRENCE = :number "
        "AND (SELECT COUNT(*) FROM GL10001 l WHERE l.JRNENTRY = h.JRNENTRY) = :lines "
        "AND ABS((SELECT SUM(l.DEBITAMT) FROM GL10001 l WHERE l.JRNENTRY = h.JRNENTRY) - :debits) < 0.005"
    ),
}


class GpLedger:
    """Read-only look-ups in GP's company databases; ``company_engine`` gives the engine for a company."""

    def __init__(self, company_engine: Callable[[str], Engine]) -> None:
        self._company_engine = company_engine

    def holds(self, document: GpDocument) -> bool:
        """True when GP already has this document (it must not be posted again)."""
        first = document.rows[0] if document.rows else {}
        parameters: dict[str, object] = {
            # A journal is found by the reference GP stores; a statistics part's number adds "part n" to it.
            "number": first.get("REFRENCE", document.document_number)
            if document.map_id is GpMap.JOURNAL
            else document.document_number,
            "batch": document.batch_id,
            "vendor": first.get("VENDORID", ""),
            "lines": len(document.lines),
            "debits": float(document.debits),
        }
        with self._company_engine(document.company).connect() as connection:
            found = connection.execute(_QUERIES[document.map_id], parameters).scalar_one()
        return int(found) > 0

    def chart(self, company: str) -> frozenset[str]:
        """The company's active account strings (``GL00105`` joined to ``GL00100``), to refuse unknown accounts."""
        query = text(
            "SELECT a.ACTNUMST FROM GL00105 a JOIN GL00100 m ON m.ACTINDX = a.ACTINDX WHERE m.ACTIVE = 1"
        )
        with self._company_engine(company).connect() as connection:
            return frozenset(str(row[0]).strip() for row in connection.execute(query))
