"""Alerts: listing with filters and keyset pages, one alert with its history."""
