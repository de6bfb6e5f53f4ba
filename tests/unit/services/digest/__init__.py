"""Unit tests of the digest service."""
