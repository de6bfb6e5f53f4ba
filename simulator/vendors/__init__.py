"""Canonical events rendered as the CRMs would deliver them: one module per vendor."""
