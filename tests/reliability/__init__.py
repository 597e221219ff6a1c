"""Reliability: bad, hostile and suspicious input."""
