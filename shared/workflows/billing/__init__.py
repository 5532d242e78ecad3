"""The month's billing seen whole: what would stop a site being billed, and whether what was billed reached GP.

Readiness (``readiness.py``) is asked before the first-of-month run;
reconciliation (``reconciliation.py``) after the billing window, by the API and
by a timer. Both read PowerBill's rows in Dataverse (``powerbill.py``) and GP's
company databases (``gp_books.py``) and decide with small pure functions.
"""
