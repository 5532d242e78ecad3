"""Legion, as replicated into TP_LEGION: job codes, their use by site, and wage rates.

Streams: ``job_codes`` and ``job_codes_by_site`` (``job_codes.py``) and
``wage_rates`` (``wage_rates.py``); ``days.py`` holds the rolling windows.
"""
