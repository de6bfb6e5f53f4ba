"""Integration tests of the digest service (real broker, DB, local Slack API, SMTP)."""
