"""Helpers for tests: polling with a deadline, databases, free ports."""
