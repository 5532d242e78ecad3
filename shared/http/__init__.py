"""Resilient HTTP for every downstream the hub calls: one pooled client per host, retries, a breaker."""
