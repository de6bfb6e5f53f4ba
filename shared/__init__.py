"""The project's shared package: canonical events, topics, settings, broker, DB, clock."""
