"""What the hub tells Application Insights: spans, metrics and log dimensions, named once in ``names``."""
