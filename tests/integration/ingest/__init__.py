"""Integration tests of ingest against the real broker."""
