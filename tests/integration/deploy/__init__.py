"""Integration tests of the local stack servers (real sockets, real clients)."""
