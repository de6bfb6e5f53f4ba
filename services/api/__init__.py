"""The REST gateway internal tools query: alerts, reps' daily metrics, opportunities."""
