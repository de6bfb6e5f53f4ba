"""Reps: the profile from the org directory and gap-filled daily activity metrics."""
