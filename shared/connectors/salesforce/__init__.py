"""Salesforce: the sales pipeline (Lead, Account, Contact, Opportunity) into Dataverse, leads back out.

``session`` signs in (OAuth 2.0 client credentials), ``rest`` calls the REST
API within the hub's share of the org's daily limit (``budget``) and reads
Salesforce's error bodies (``errors``), ``objects`` declares what each
object's stream reads and writes, ``streams`` builds the engine's streams.
"""
