"""Integration tests of the api service against real databases."""
