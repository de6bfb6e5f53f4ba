"""The digest service: Slack DMs for alert changes, the morning email digest per manager."""
