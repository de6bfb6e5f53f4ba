"""Opportunities: the latest snapshot with its hygiene figures and its alerts."""
