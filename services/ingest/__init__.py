"""Ingest: signed canonical events over HTTP, validated and produced to Kafka keyed by rep."""
