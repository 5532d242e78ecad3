"""``make load``: Locust against the API as Power Automate calls it, with the rate limiter on and off."""
