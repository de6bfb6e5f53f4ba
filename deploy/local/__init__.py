"""The local stack: process supervisor, edge servers (Slack API, SMTP), demo feed."""
