"""Every column of the tables the api serves appears in its response models."""

from __future__ import annotations

import pytest
from pydantic import BaseModel
from sqlmodel import SQLModel

from services.api.alerts.schemas import AlertOut, TransitionOut
from services.api.opportunities.schemas import OpportunitySnapshotOut
from services.api.reps.schemas import DayBucket, RepProfile
from shared.db.models import Alert, AlertTransition, OpportunitySnapshot, Rep, RepDayBucket


@pytest.mark.parametrize(
    ("table", "model", "left_out"),
    [
        (Alert, AlertOut, set()),
        (AlertTransition, TransitionOut, {"id", "fingerprint"}),  # nested under their alert
        (Rep, RepProfile, set()),
        (RepDayBucket, DayBucket, set()),
        (OpportunitySnapshot, OpportunitySnapshotOut, set()),
    ],
)
def test_every_column_is_served(
    table: type[SQLModel], model: type[BaseModel], left_out: set[str]
) -> None:
    columns = {column.name for column in table.__table__.columns}  # type: ignore[attr-defined]
    assert columns - left_out == set(model.model_fields) & columns
    assert not columns - left_out - set(model.model_fields)
