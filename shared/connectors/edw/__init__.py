"""The Enterprise Data Warehouse (TP_EDW): site master data and budgets, read with SQL.

Streams: ``master_customer_sites`` (``master_sites.py``) and
``billable_expense_budgets`` (``budgets.py``); ``sites.py`` holds the
four-digit site number every connector writes.
"""
