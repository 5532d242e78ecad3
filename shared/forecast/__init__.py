"""The forecast: Towne Park's trending rules, variance against budget, and snapshots written back to the EDW."""
