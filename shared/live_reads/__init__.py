"""Live reads of Towne Park's EDW for Power Platform: typed, parameterised successors of the numbered queries.

``reads.LIVE_READS`` declares every read; the API serves them at
``GET /api/v1/edw/{name}``.
"""
