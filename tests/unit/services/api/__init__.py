"""Unit tests of the api service: pure helpers, no I/O."""
