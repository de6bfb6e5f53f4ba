"""The Pipedrive mapping section: its defaults are the simulator's conventions, and the
simulator's `ingest_mapping()` is a valid section for its whole org."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from services.ingest.adapters.pipedrive_mapping import PipedriveMapping
from services.ingest.mapping import MappingConfig
from simulator.config import Pipeline, ScenarioConfig
from simulator.engine import Simulation
from simulator.ingest_mapping import ingest_mapping
from simulator.vendors import canonical
from simulator.vendors.pipedrive import CALL_SUBJECTS, INBOUND_SUBJECT_PREFIX, PipedriveFormatter

SCENARIO = ScenarioConfig(name="t", seed=3, reps=4, weeks=1, team_size=4)


def _formatter() -> PipedriveFormatter:
    org = Simulation(SCENARIO).org
    return PipedriveFormatter(org, company_id=7_654_321, http_user="u", http_password="p")


def test_the_defaults_are_the_simulators_subject_conventions() -> None:
    section = PipedriveMapping()
    assert section.inbound_subject_prefix == INBOUND_SUBJECT_PREFIX
    assert section.call_subjects == {subject: ok for ok, subject in CALL_SUBJECTS.items()}
    assert {p: k.value for p, k in section.meeting_subject_prefixes.items()} == {
        prefix: kind for kind, prefix in canonical.MEETING_SUBJECTS.items()
    }
    assert section.activity_types == {"email": "email", "call": "call", "meeting": "meeting"}
    assert section.company_ids == [] and section.users == {}


def test_the_simulators_section_validates_and_covers_the_org() -> None:
    formatter = _formatter()
    document = formatter.ingest_mapping()
    section = MappingConfig.model_validate({"pipedrive": document}).pipedrive
    assert section == PipedriveMapping.model_validate(document)
    assert set(section.users.values()) == {person.rep_id for person in formatter.org.people}
    assert section.company_ids == ["7654321"]
    (pipeline,) = section.pipelines.values()
    assert pipeline.name == "default"
    assert list(pipeline.stages.values()) == list(Pipeline().stages)  # in funnel order


def test_the_mapping_file_for_an_org_holds_this_section() -> None:
    org = Simulation(SCENARIO).org
    env = {"PIPEDRIVE_COMPANY_ID": "7654321"}
    assert ingest_mapping(org, env)["pipedrive"] == _formatter().ingest_mapping()


@pytest.mark.parametrize(
    "section",
    [
        {"meeting_subject_prefixes": {"Demo": "demo"}},
        {"call_subjects": {"Reached": "maybe"}},
        {"company_ids": "8087566"},
        {"unknown_field": 1},
    ],
)
def test_a_wrong_section_is_refused(section: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        PipedriveMapping.model_validate(section)
