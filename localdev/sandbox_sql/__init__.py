"""The sandbox SQL Server: Towne Park's TP_EDW, TP_LEGION and TP_STAGE as seeded SQLite files.

The hub reads them with the same SQLAlchemy statements it runs on
``EDW-NODE-01\\TP_EDW01`` (``shared/sql/tables.py``); ``shared/sql/engines.py``
attaches the three files under their database names. Build it with
``python -m localdev.sandbox_sql --folder .local/sandbox-sql`` or
``build_sandbox(folder, ...)``.
"""

from localdev.sandbox_sql.build import SandboxSummary, build_sandbox, sandbox_url

__all__ = ["SandboxSummary", "build_sandbox", "sandbox_url"]
