"""A small stand-in for Azure Functions Core Tools: serves an app's HTTP, timer and Service Bus triggers.

It imports the app's real ``function_app.py`` and reads the triggers its
decorators declared, so the same file runs unchanged here, under ``func start``
and in Azure. Run it with ``python -m localdev.functions_host``.
"""
