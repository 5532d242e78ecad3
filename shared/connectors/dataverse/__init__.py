"""Dataverse, the billing and forecasting store: its Web API client and the sink the loader writes through."""
