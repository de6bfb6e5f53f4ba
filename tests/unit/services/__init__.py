"""Unit tests of the services."""
