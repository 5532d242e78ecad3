"""Revenue submissions (RSS): each site's month submitted in SharePoint, checked against the deposits.

Replaces the RSS-Submission solution and the Ready-for-Invoicing Logic App
(DOMAIN.md §9): ``notifications`` (the webhook's checks), ``subscriptions``
(kept alive by a timer), ``sweep`` (the delta query, the only source of what
changed), ``deposit_check`` (Towne Park's rule), ``workbook`` (the one adapter
that knows the workbook's layout), ``staging`` (TP_STAGE and the EDW figures)
and ``workflow`` (one submission from item to status and mail).
"""
