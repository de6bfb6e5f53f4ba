"""What ingest answers: the accepted receipt, refusals, and the outcome of each request."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class Outcome(StrEnum):
    """The fixed set of request outcomes, one Prometheus label value each."""

    ACCEPTED = "accepted"
    UNAUTHORIZED = "unauthorized"
    INVALID = "invalid"
    TOO_LARGE = "too_large"
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"
    UNAVAILABLE = "unavailable"


class _Response(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Accepted(_Response):
    """202: every event of the request is acknowledged by the broker."""

    accepted: int = Field(description="How many events the request carried.")
    event_ids: list[str] = Field(
        description="The id of each event, in input order (duplicates are produced once)."
    )


class Problem(_Response):
    """A refusal with a one-line reason."""

    detail: str


class Issue(_Response):
    """One bad field: its JSON path under the body (batch index first), and why."""

    loc: list[str | int]
    msg: str
    type: str


class InvalidEvents(_Response):
    """422: the body is JSON but one or more events are invalid; nothing was produced."""

    detail: list[Issue]
