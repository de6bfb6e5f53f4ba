"""The five services: ingest, metrics, alerts, digest, api."""
