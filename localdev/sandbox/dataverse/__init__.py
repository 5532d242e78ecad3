"""The sandbox Dataverse: Web API v9.2 over SQLite, for the tables declared in ``tables.json``."""
