"""Constraints shared by path and query parameters."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path, Query
from pydantic import StringConstraints

# Identifiers come from CRMs and may hold almost anything, but never control characters;
# refusing them up front also keeps NUL away from PostgreSQL, which rejects it in text.
ID_PATTERN = r"^[^\x00-\x1f\x7f]+$"
# In a path an id cannot hold "/" either: the router sees %2F decoded, as a separator.
PATH_ID_PATTERN = r"^[^\x00-\x1f\x7f/]+$"
ID_MAX_LENGTH = 128
RULE_MAX_LENGTH = 64
FINGERPRINT_MAX_LENGTH = 64

RuleName = Annotated[str, StringConstraints(max_length=RULE_MAX_LENGTH, pattern=ID_PATTERN)]


def id_query(description: str) -> Any:
    """An optional identifier in the query string."""
    return Query(max_length=ID_MAX_LENGTH, pattern=ID_PATTERN, description=description)


def id_path(description: str, *, max_length: int = ID_MAX_LENGTH) -> Any:
    """An identifier in the path."""
    return Path(max_length=max_length, pattern=PATH_ID_PATTERN, description=description)
