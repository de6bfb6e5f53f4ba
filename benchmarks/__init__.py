"""Benchmarks: `make bench`. Each reports medians and a ratio to a baseline run alongside."""
