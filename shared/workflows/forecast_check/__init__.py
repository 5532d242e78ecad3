"""The statement forecast check as a service: a statement against the forecast, and where it goes next."""
