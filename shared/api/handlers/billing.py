"""``/v1/billing/readiness`` and ``/v1/billing/reconciliation``: a billing month before and after its run."""

from __future__ import annotations

from typing import TYPE_CHECKING

from shared.api import billing_models as views
from shared.api.answers import ok
from shared.api.calls import ApiServices, Call
from shared.api.http import ApiResponse
from shared.api.problems import ProblemError
from shared.sites import site_number

if TYPE_CHECKING:
    from shared.workflows.billing.desk import BillingChecks
    from shared.workflows.billing.reconciliation import Reconciliation

CSV_TYPE = "text/csv"


def get_billing_readiness(services: ApiServices, call: Call) -> ApiResponse:
    query: views.BillingReadinessQuery = call.query
    sites = [site_number(site) or site for site in (query.sites or "").split(",") if site]
    checked = _checks(services).readiness(query.period, sites)
    answer = views.BillingReadiness(
        period=query.period,
        sites=[
            views.SiteReadinessView(
                site_number=site.site.number,
                site_name=site.site.name or None,
                company=site.company,
                billing_type=None if site.arrears is None else ("arrears" if site.arrears else "advanced"),
                ready=site.ready,
                blockers=[
                    views.SiteBlockerView(kind=blocker.blocker.value, detail=blocker.detail)
                    for blocker in site.blockers
                ],
            )
            for site in checked
        ],
        blocked=sum(1 for site in checked if not site.ready),
    )
    return ok(answer)


def get_billing_reconciliation(services: ApiServices, call: Call) -> ApiResponse:
    """JSON by default; CSV when the caller's Accept header asks for text/csv."""
    query: views.BillingMonthQuery = call.query
    reconciliation = _checks(services).reconciliation(query.period)
    if CSV_TYPE in (call.request.header("accept") or ""):
        # Here, not at the top: the operations table names this handler, and indexing the app loads no SQL.
        from shared.workflows.billing.reconciliation_csv import reconciliation_csv

        body = reconciliation_csv(reconciliation).encode()
        disposition = f'attachment; filename="billing-reconciliation-{query.period}.csv"'
        return ApiResponse(200, body, {"Content-Disposition": disposition}, f"{CSV_TYPE}; charset=utf-8")
    return ok(reconciliation_view(reconciliation))


def reconciliation_view(reconciliation: Reconciliation) -> views.BillingReconciliation:
    return views.BillingReconciliation(
        period=reconciliation.period,
        invoices=[
            views.ReconciledInvoiceView(
                site_number=line.site_number,
                document_number=line.document_number,
                invoice_number=line.invoice.invoice_number if line.invoice else None,
                statement_id=line.invoice.statement_id if line.invoice else None,
                statement_status=line.statement_status,
                statement_amount=float(line.invoice.amount) if line.invoice else None,
                sent=bool(line.invoice and line.invoice.sent),
                gp_documents=[
                    views.GpDocumentView(
                        company=document.company,
                        table=document.table,
                        batch_id=document.batch_id,
                        amount=float(document.amount),
                        payment_status=document.payment_status,
                    )
                    for document in line.documents
                ],
                gp_amount=float(line.gp_amount) if line.gp_amount is not None else None,
                payment_status=line.payment_status,
                audit_trail=[
                    views.AuditEntryView(status=entry.status, created_on=entry.created_on or None)
                    for entry in line.audit
                ],
                differences=[difference.value for difference in line.differences],
            )
            for line in reconciliation.lines
        ],
        differences=[
            views.DifferenceView(
                kind=difference.value, site_number=line.site_number, document_number=line.document_number
            )
            for line, difference in reconciliation.differences
        ],
    )


def _checks(services: ApiServices) -> BillingChecks:
    if services.billing is None:
        raise ProblemError(
            503,
            "gp-not-configured",
            "Billing checks read GP, which is off in this environment: an admin sets GP_SQL_URL.",
        )
    return services.billing
