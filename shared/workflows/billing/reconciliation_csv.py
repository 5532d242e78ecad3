"""The month's reconciliation as CSV, one row per invoice (or stray GP document), for audit's spreadsheets.

Written with Python's ``csv`` (RFC 4180 quoting, ``\\r\\n`` line ends), so a
site name or a GP batch with a comma stays in its cell. Several GP documents
or differences on one line are joined with ``;`` inside their cell.
"""

from __future__ import annotations

import csv
import io

from shared.workflows.billing.reconciliation import Reconciliation

COLUMNS = (
    "site_number",
    "document_number",
    "invoice_number",
    "statement_id",
    "statement_status",
    "statement_amount",
    "sent",
    "gp_documents",
    "gp_companies",
    "gp_batches",
    "gp_amount",
    "payment_status",
    "audit_entries",
    "last_audit_status",
    "differences",
)


def reconciliation_csv(reconciliation: Reconciliation) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for line in reconciliation.lines:
        invoice = line.invoice
        writer.writerow(
            (
                line.site_number,
                line.document_number,
                invoice.invoice_number if invoice else "",
                invoice.statement_id if invoice else "",
                line.statement_status or "",
                f"{invoice.amount:.2f}" if invoice else "",
                "yes" if invoice and invoice.sent else "no",
                len(line.documents),
                ";".join(document.company for document in line.documents),
                ";".join(document.batch_id for document in line.documents),
                f"{line.gp_amount:.2f}" if line.gp_amount is not None else "",
                line.payment_status or "",
                len(line.audit),
                line.audit[-1].status if line.audit else "",
                ";".join(line.differences),
            )
        )
    return out.getvalue()
