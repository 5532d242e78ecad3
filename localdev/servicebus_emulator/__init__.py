"""A local Service Bus: an AMQP 1.0 broker that the unmodified ``azure-servicebus`` SDK talks to.

A development tool, not part of the app. It serves queues, topics and
subscriptions from a Microsoft-format ``Config.json``, with peek-lock and
receive-and-delete, lock renewal and expiry, dead-lettering, scheduling and
peeking, and keeps every message in SQLite so a restart loses nothing. Run it
with ``python -m localdev.servicebus_emulator``; ``make run`` starts it.
"""
