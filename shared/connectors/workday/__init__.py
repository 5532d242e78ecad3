"""Workday, as its nightly exports land in TP_EDW: who may see which sites.

Streams: ``user_roles`` and ``user_sites`` (``users.py``), by the role rules
of ``roles.py``.
"""
